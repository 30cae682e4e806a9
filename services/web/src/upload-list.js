// The uploads of this page, one list item each: the file's name, its progress with the
// percentage, speed and time left as text, and Cancel, Retry or Clear.
import { actionButton } from './dom.js';
import { formatBytes, formatDuration, SpeedMeter } from './format.js';
import { errorInWords } from './words.js';

/** Renders `uploader`'s files into the list `list`, as they change, until `stop()`. */
export function showUploads(uploader, list) {
  const { uppy } = uploader;
  const rows = new Map();
  const meters = new Map();
  let frame = null;

  const onChange = () => {
    frame ??= requestAnimationFrame(() => {
      frame = null;
      render();
    });
  };

  function render() {
    const files = uppy.getFiles();
    for (const file of files) {
      if (!rows.has(file.id)) {
        rows.set(file.id, newRow(file));
        list.append(rows.get(file.id).item);
      }
      update(rows.get(file.id), file);
    }
    const present = new Set(files.map((file) => file.id));
    for (const [id, row] of rows) {
      if (!present.has(id)) {
        row.item.remove();
        rows.delete(id);
        meters.delete(id);
      }
    }
  }

  function newRow(file) {
    const item = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = file.name;
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.setAttribute('aria-label', `Progress of ${file.name}`);
    const state = document.createElement('span');
    state.className = 'state';
    const actions = document.createElement('span');
    actions.className = 'actions';
    const retry = actionButton('Retry', file.name, () => uppy.retryUpload(file.id));
    // Cancelling discards the upload (and the parts S3 holds); clearing only hides it.
    const cancel = actionButton('Cancel', file.name, () => uppy.removeFile(file.id));
    const clear = actionButton('Clear', file.name, () => uppy.removeFile(file.id));
    actions.append(retry, cancel, clear);
    item.append(name, bar, state, actions);
    return { item, bar, state, retry, cancel, clear };
  }

  function update(row, file) {
    const { progress } = file;
    const finished = uploader.isFinished(file);
    const failed = Boolean(file.error);
    row.item.classList.toggle('failed', failed);
    row.retry.hidden = !failed;
    row.cancel.hidden = finished;
    row.clear.hidden = !finished;
    if (progress.preprocess) {
      row.bar.value = Math.floor((progress.preprocess.value ?? 0) * 100);
      row.state.textContent = 'Preparing';
      return;
    }
    const total = progress.bytesTotal || file.size || 0;
    const sent = progress.bytesUploaded || 0;
    // Floored: 100 % only once every byte is sent.
    const percent = total ? Math.floor((sent / total) * 100) : progress.uploadComplete ? 100 : 0;
    row.bar.value = percent;
    row.state.textContent = stateText(file, percent, total, sent, finished);
  }

  function stateText(file, percent, total, sent, finished) {
    if (file.error) return errorInWords(uploader.errorOf(file));
    if (finished) return '100 % · uploaded; see Your files for its check';
    if (file.progress.uploadComplete || percent === 100) return '100 % · finishing';
    if (!file.progress.uploadStarted) return 'Waiting';
    const resumed = uploader.isResumed(file) ? 'resumed · ' : '';
    if (!meters.has(file.id)) meters.set(file.id, new SpeedMeter());
    const speed = meters.get(file.id).add(sent);
    if (!speed) return `${resumed}${percent} %`;
    const left = formatDuration((total - sent) / speed);
    return `${resumed}${percent} % · ${formatBytes(speed)}/s · ${left} left`;
  }

  uppy.on('state-update', onChange);
  render();

  return {
    stop() {
      uppy.off('state-update', onChange);
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
