// Uploads: Uppy's core queues the files and tracks their progress, and @uppy/aws-s3 sends
// the bytes straight to S3 (one PUT, or parts in parallel, each retried), through the
// direct-upload API, as the Python client does (services/client/upload_client/direct.py):
//
//   POST /uploads                 declares the name, size and SHA-256: one signed PUT, or parts
//   GET /uploads/{id}/parts       the parts S3 holds, and fresh URLs for the others
//   POST /uploads/{id}/complete   the file is then UPLOADED, and its verification starts
//   DELETE /uploads/{id}          cancels an upload that has not completed
//
// A multipart upload is remembered in localStorage, by user and by the file's SHA-256, until
// it completes: choosing the same file again, after a reload or a failure, sends only the
// parts S3 does not hold yet. The record holds no secret (an upload id is worth nothing
// without the user's token). It outlives the tab as the upload does, a day at most (every
// page start forgets older ones: forgetStaleUploads), but not the user's session: signing
// out forgets them and cancels those uploads (forgetUploads).
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import { ApiError } from './api.js';
import { sha256Hex } from './hash.js';

const MULTIPART = 'MULTIPART';
const RESUME_PREFIX = 'secure-upload.resume.';
// The API keeps a pending upload a day (pending_upload_ttl_seconds), S3 its parts as long.
const RESUME_FOR_MS = 24 * 60 * 60 * 1000;
// The API's file ids; a stored record is used only if it holds one.
const FILE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// URLs live minutes: fresh ones are fetched this long before they expire.
const URL_MARGIN_MS = 30_000;
// Requests in flight at once, parts included (the Python client sends 4 parts at a time).
const CONCURRENT_REQUESTS = 4;

/**
 * An Uppy instance that uploads through `api` for the user `userId`. `onFinished(file)` runs
 * once a file is UPLOADED; `onError(error)` gets what fails outside any one file's upload.
 */
export function createUploader({ api, userId, onFinished, onError }) {
  const uppy = new Uppy({ autoProceed: true });
  // Each file's upload as the API set it up, by the file's bytes: every hook of Uppy's can
  // reach them, and they stay the same across retries.
  const plans = new WeakMap();
  const kept = resumeRecords(userId);
  // Uppy keeps a file's error as text; the error itself says which words fit.
  const errors = new Map();

  async function prepare(fileIDs) {
    // Uppy runs this before sending: a failure here fails that one file, not the others.
    await Promise.all(
      fileIDs.map(async (id) => {
        const file = uppy.getFile(id);
        if (!file) return;
        try {
          let plan = plans.get(file.data);
          if (plan && plan.method !== MULTIPART && !plan.completed && expired(plan)) {
            // A single PUT's URL cannot be signed again: cancel that upload, start another.
            await discard(plan);
            plan = undefined;
          }
          if (!plan) {
            plan = await begin(file);
            if (!uppy.getFile(id)) return discard(plan); // removed while it was prepared
            plans.set(file.data, plan);
          }
          if (plan.method === MULTIPART) {
            // So Uppy asks which parts S3 holds before sending the others: the same path
            // for a new upload, a resumed one and a retry.
            uppy.setFileState(id, { s3Multipart: { key: plan.fileId, uploadId: plan.fileId } });
          }
        } catch (error) {
          uppy.emit('upload-error', uppy.getFile(id) ?? file, error);
        } finally {
          uppy.emit('preprocess-complete', uppy.getFile(id) ?? file);
        }
      }),
    );
  }

  async function begin(file) {
    const progress = (value) =>
      uppy.emit('preprocess-progress', file, { mode: 'determinate', message: 'Preparing', value });
    progress(0);
    const sha256 = await sha256Hex(file.data, progress);
    return (await resumed(file, sha256)) ?? (await started(file, sha256));
  }

  /** The remembered multipart upload of this content, if S3 still holds it. */
  async function resumed(file, sha256) {
    const record = kept.get(sha256);
    if (!record) return null;
    if (record.size === file.size) {
      try {
        const listed = await api.get(uploadPath(record.fileId, '/parts'));
        return adopt({ fileId: record.fileId, sha256, resumed: true }, listed);
      } catch (error) {
        // 404: completed, expired or cancelled; 409: S3 no longer holds its parts.
        if (!(error instanceof ApiError) || ![404, 409].includes(error.status)) throw error;
        if (error.status === 404 && (await exists(record.fileId))) {
          // Completed, but the page went before it could forget the record.
          kept.forget(sha256);
          throw new ApiError(409, 'already_uploaded', '');
        }
      }
    }
    kept.forget(sha256);
    return null;
  }

  async function exists(fileId) {
    try {
      await api.get(uploadPath(fileId));
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
  }

  async function started(file, sha256) {
    const answer = await api.post('/uploads', {
      file_name: file.name,
      size_bytes: file.size,
      sha256,
    });
    const plan = adopt({ fileId: answer.file_id, sha256 }, answer);
    if (plan.method === MULTIPART) {
      kept.set(sha256, { fileId: plan.fileId, size: file.size, createdAt: Date.now() });
    }
    return plan;
  }

  async function discard(plan) {
    kept.forget(plan.sha256);
    await cancel(api, plan.fileId);
  }

  function finished(file) {
    const plan = plans.get(file.data);
    plan.completed = true;
    kept.forget(plan.sha256);
    onFinished(file);
  }

  // Several parts may find the URLs expired at once: one GET .../parts serves them all.
  function refreshUrls(plan) {
    plan.refreshing ??= api
      .get(uploadPath(plan.fileId, '/parts'))
      .then((listed) => adopt(plan, listed))
      .finally(() => {
        plan.refreshing = null;
      });
    return plan.refreshing;
  }

  uppy.addPreProcessor(prepare);
  uppy.use(AwsS3, {
    limit: CONCURRENT_REQUESTS,
    shouldUseMultipart: (file) => plans.get(file.data)?.method === MULTIPART,
    // The API's part size: part n is then the bytes the URL of part n was signed for.
    getChunkSize: (data) => plans.get(data).partSize,
    getUploadParameters: (file) => {
      const { url, headers } = plans.get(file.data);
      return { method: 'PUT', url, headers };
    },
    createMultipartUpload: (file) => {
      const { fileId } = plans.get(file.data);
      return { uploadId: fileId, key: fileId };
    },
    listParts: async (file, { uploadId }) => {
      const listed = await api.get(uploadPath(uploadId, '/parts'));
      adopt(plans.get(file.data), listed);
      return listed.parts_received.map((part) => ({
        PartNumber: part.part_number,
        Size: part.size_bytes,
        ETag: part.etag,
      }));
    },
    signPart: async (file, { partNumber }) => {
      const plan = plans.get(file.data);
      if (expired(plan) || !plan.partUrls.has(partNumber)) await refreshUrls(plan);
      return { url: plan.partUrls.get(partNumber) };
    },
    completeMultipartUpload: async (file, { uploadId, parts }) => {
      const body = { parts: parts.map((p) => ({ part_number: p.PartNumber, etag: p.ETag })) };
      await api.post(uploadPath(uploadId, '/complete'), body);
      finished(file);
      return {};
    },
    // Uppy calls this after a failure too; the parts stay for a retry. A cancel (the file
    // removed, below) is what discards an upload.
    abortMultipartUpload: () => {},
    uploadPartBytes: async (options) => {
      try {
        return await AwsS3.uploadPartBytes(options);
      } catch (error) {
        // If-None-Match refused to replace the object an earlier try of this single PUT
        // (the only request sent with headers) created, its answer lost. The URL signs
        // the file's SHA-256: the file is there.
        if (error.source?.status !== 412 || !options.signature.headers) throw error;
        options.onProgress({ loaded: options.body.size, lengthComputable: true });
        return { ETag: '' };
      }
    },
  });
  // A single PUT has no completion request in Uppy's protocol: it is sent after the upload.
  uppy.addPostProcessor(async (fileIDs) => {
    await Promise.all(
      fileIDs.map(async (id) => {
        const file = uppy.getFile(id);
        const plan = file && plans.get(file.data);
        if (!plan || plan.method === MULTIPART || plan.completed || file.error) return;
        try {
          await api.post(uploadPath(plan.fileId, '/complete'));
          finished(file);
        } catch (error) {
          uppy.emit('upload-error', file, error);
        }
      }),
    );
  });
  uppy.on('file-removed', (file) => {
    errors.delete(file.id);
    const plan = plans.get(file.data);
    if (plan && !plan.completed) discard(plan).catch(onError);
  });
  uppy.on('upload-error', (file, error) => errors.set(file.id, error));
  uppy.on('upload-retry', (file) => errors.delete(file.id));

  return {
    uppy,
    errorOf: (file) => errors.get(file.id) ?? { message: file.error },
    isResumed: (file) => Boolean(plans.get(file.data)?.resumed),
    isFinished: (file) => Boolean(plans.get(file.data)?.completed) && !file.error,
  };
}

/** `plan` with the URLs of an answer of POST /uploads or GET /uploads/{id}/parts. */
function adopt(plan, answer) {
  const { upload } = answer;
  plan.method = upload.method;
  // The API's timestamps have microseconds; Date.parse reads milliseconds.
  plan.expiresAt = Date.parse(answer.expires_at.replace(/(\.\d{3})\d*/, '$1'));
  if (upload.method === MULTIPART) {
    plan.partSize = upload.part_size;
    plan.partUrls = new Map(upload.parts.map((part) => [part.part_number, part.url]));
  } else {
    plan.url = upload.url;
    // The browser sets Content-Length itself, and refuses a script that tries.
    plan.headers = Object.fromEntries(
      Object.entries(upload.headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
    );
  }
  return plan;
}

function expired(plan) {
  return Date.now() > plan.expiresAt - URL_MARGIN_MS;
}

/**
 * On sign-out: forgets the user's unfinished multipart uploads at once, so nothing of what
 * they uploaded (their files' hashes, upload ids) stays in this browser, then cancels them
 * through `api` (a client that does not wait long: sign-out must not hang on the network).
 */
export async function forgetUploads(api, userId) {
  const kept = resumeRecords(userId);
  const fileIds = kept.all().flatMap(([sha256, record]) => {
    kept.forget(sha256);
    return record ? [record.fileId] : [];
  });
  // A cancel that fails leaves the upload to expire: S3 aborts its parts after a day.
  await Promise.allSettled(fileIds.map((fileId) => cancel(api, fileId)));
}

/** At every page start: forgets any user's resume record older than the upload it names. */
export function forgetStaleUploads() {
  for (const name of Object.keys(localStorage)) {
    if (name.startsWith(RESUME_PREFIX) && !current(readRecord(name))) {
      localStorage.removeItem(name);
    }
  }
}

/** Aborts a pending upload; one that completed meanwhile is a file, left as it is (404). */
async function cancel(api, fileId) {
  try {
    await api.delete(uploadPath(fileId, '?pending_only=true'));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
}

function readRecord(name) {
  try {
    return JSON.parse(localStorage.getItem(name));
  } catch {
    return null; // not JSON
  }
}

/** The record if it is one of ours and its upload may still be open, else null. */
function current(record) {
  const valid =
    FILE_ID.test(record?.fileId) &&
    Number.isSafeInteger(record.size) &&
    Number.isSafeInteger(record.createdAt);
  return valid && Date.now() - record.createdAt < RESUME_FOR_MS ? record : null;
}

function uploadPath(fileId, rest = '') {
  return `/uploads/${encodeURIComponent(fileId)}${rest}`;
}

function resumeRecords(userId) {
  const prefix = `${RESUME_PREFIX}${userId}.`;
  const key = (sha256) => `${prefix}${sha256}`;
  const get = (sha256) => current(readRecord(key(sha256)));
  return {
    get,
    all: () =>
      Object.keys(localStorage)
        .filter((name) => name.startsWith(prefix))
        .map((name) => name.slice(prefix.length))
        .map((sha256) => [sha256, get(sha256)]),
    set: (sha256, record) => localStorage.setItem(key(sha256), JSON.stringify(record)),
    forget: (sha256) => localStorage.removeItem(key(sha256)),
  };
}
