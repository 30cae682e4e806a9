// The upload API, with the signed-in user's IdToken. Every refusal becomes an ApiError
// carrying the API's stable error code (its JSON error shape: {error, message}).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

/**
 * `token()` gives the current IdToken; `onExpired()` is called on a 401 (the token expired
 * or was refused), before the request's ApiError is thrown. With `timeoutMs`, a request
 * not answered by then fails; with `keepalive`, it outlives the page.
 */
export function apiClient(config, token, onExpired, { timeoutMs, keepalive = false } = {}) {
  const base = config.apiUrl.replace(/\/+$/, '');

  async function request(method, path, body) {
    const headers = { Authorization: `Bearer ${token()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        keepalive,
        signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
      });
    } catch {
      throw new ApiError(0, 'network_error', '');
    }
    if (response.status === 204) return null;
    const answer = await response.json().catch(() => ({}));
    if (response.ok) return answer;
    if (response.status === 401) onExpired();
    throw new ApiError(response.status, answer.error ?? `http_${response.status}`, answer.message);
  }

  return {
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    delete: (path) => request('DELETE', path),
  };
}
