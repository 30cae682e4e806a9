// The user's files (GET /uploads), kept live by polling: one table row per file with its
// name and status as text, Download once it is PROCESSED, and Delete.
import { ApiError } from './api.js';
import { actionButton } from './dom.js';
import { formatBytes } from './format.js';
import { errorInWords, statusInWords } from './words.js';

// Verification takes seconds: a status change shows within this.
const POLL_MS = 3000;
// The newest files, one page: GET /uploads answers at most 100 at a time.
const PAGE = 100;

/** Shows the files in `elements` ({table, empty, more}); `say(text)` reports an outcome. */
export function showFiles(api, elements, say) {
  const body = elements.table.tBodies[0];
  const rows = new Map();
  let loading = null;
  let timer = null;

  async function refresh() {
    loading ??= api
      .get(`/uploads?limit=${PAGE}`)
      .then(render)
      .catch((error) => {
        // A 401 has already sent the user to sign in.
        if (!(error instanceof ApiError && error.status === 401)) say(errorInWords(error));
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  function render(page) {
    const present = new Set();
    page.items.forEach((file, index) => {
      present.add(file.file_id);
      if (!rows.has(file.file_id)) rows.set(file.file_id, newRow(file));
      const row = rows.get(file.file_id);
      update(row, file);
      // Newest first, as the API lists them (inserting a row that exists moves it).
      const here = body.rows[index] ?? null;
      if (here !== row.element) body.insertBefore(row.element, here);
    });
    for (const [id, row] of rows) {
      if (!present.has(id)) {
        row.element.remove();
        rows.delete(id);
      }
    }
    elements.table.hidden = rows.size === 0;
    elements.empty.hidden = rows.size > 0;
    elements.more.hidden = !page.next_cursor;
  }

  function newRow(file) {
    const element = document.createElement('tr');
    const [name, status, size, created, buttons] = ['name', 'status', 'size', 'created', 'buttons']
      .map((kind) => {
        const cell = document.createElement('td');
        cell.className = kind;
        element.append(cell);
        return cell;
      });
    name.textContent = file.file_name;
    size.textContent = formatBytes(file.size_bytes);
    created.textContent = new Date(file.created_at).toLocaleString();
    const statusCode = document.createElement('span');
    const statusWords = document.createElement('span');
    statusWords.className = 'detail';
    status.append(statusCode, ' ', statusWords);
    const download = actionButton('Download', file.file_name, () => fetchDownload(file));
    const remove = actionButton('Delete', file.file_name, () => deleteFile(file, remove));
    buttons.append(download, remove);
    return { element, statusCode, statusWords, download };
  }

  function update(row, file) {
    row.statusCode.textContent = file.status;
    row.statusWords.textContent = statusInWords(file);
    row.element.className = file.status.toLowerCase();
    // Only a file that passed verification can be fetched at all.
    row.download.hidden = file.status !== 'PROCESSED';
  }

  async function fetchDownload(file) {
    try {
      // A fresh short-lived URL of the version the malware scan cleared. The bucket answers
      // it as an attachment, so following it downloads and leaves this page where it is.
      const detail = await api.get(`/uploads/${file.file_id}`);
      if (!detail.download_url) {
        say(`${file.file_name} cannot be downloaded: ${statusInWords(detail)}`);
        return;
      }
      const link = document.createElement('a');
      link.href = detail.download_url;
      link.click();
    } catch (error) {
      say(errorInWords(error));
    }
  }

  async function deleteFile(file, control) {
    control.disabled = true;
    try {
      await api.delete(`/uploads/${file.file_id}`);
      say(`Deleted ${file.file_name}.`);
      await refresh();
    } catch (error) {
      control.disabled = false;
      say(errorInWords(error));
    }
  }

  refresh();
  timer = setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);

  return {
    refresh,
    stop: () => clearInterval(timer),
  };
}
