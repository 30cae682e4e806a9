// What went wrong, in words a user acts on. The API's error codes are stable (its ErrorBody);
// anything unforeseen still says what the service answered.

const API_ERRORS = {
  quota_exceeded: 'Your storage is full: delete some of your files to make room, then try again.',
  file_too_large: 'This file is larger than the largest upload allowed.',
  payload_too_large: 'This file is larger than the largest upload allowed.',
  unauthorized: 'Your session has expired. Sign in again.',
  throttled: 'The service is busy. Try again in a moment.',
  service_unavailable: 'The service is busy. Try again in a moment.',
  network_error: 'The service cannot be reached. Check your connection, then try again.',
  not_found: 'This file no longer exists.',
  already_uploaded: 'This file was uploaded already: it is in Your files.',
  invalid_file_name: 'This file name cannot be stored. Rename the file, then try again.',
};

/** An ApiError, an upload's error (Uppy's, or S3's answer) or any other, in words. */
export function errorInWords(error) {
  if (error?.code && API_ERRORS[error.code]) return API_ERRORS[error.code];
  if (error?.code) return `The upload service refused: ${error.message} (${error.code}).`;
  // S3 refused a PUT, or the connection dropped: the parts S3 took are kept.
  const status = error?.source?.status;
  if (status === 0 || error?.message === 'Unknown error') return API_ERRORS.network_error;
  if (status === 403) return 'The upload link expired. Retry to continue.';
  return `The upload stopped (${error?.message ?? 'unknown error'}). Retry to continue.`;
}

const SIGN_IN_ERRORS = {
  NotAuthorizedException: 'Incorrect email or password.',
  UserNotFoundException: 'Incorrect email or password.',
  PasswordResetRequiredException: 'Your password must be reset before you can sign in.', // pragma: allowlist secret  (a message, not a password)
  TooManyRequestsException: 'Too many attempts. Wait a moment, then try again.',
  LimitExceededException: 'Too many attempts. Wait a moment, then try again.',
  NetworkError: 'The sign-in service cannot be reached. Check your connection, then try again.',
};

export function signInErrorInWords(error) {
  // Cognito's own message names the rule the password breaks.
  if (error.type === 'InvalidPasswordException') return `Choose another password. ${error.message}`;
  return SIGN_IN_ERRORS[error.type] ?? `Sign-in failed: ${error.message || error.type}.`;
}

/** What a file's status means for its owner. */
export function statusInWords(file) {
  switch (file.status) {
    case 'UPLOADED':
      return 'Being checked for malware.';
    case 'PROCESSED':
      return 'Checked: ready to download.';
    case 'QUARANTINED':
      return 'Malware was found in this file. It is kept quarantined and cannot be downloaded.';
    case 'FAILED':
      return `The check failed${file.failure_reason ? `: ${file.failure_reason}` : ''}.`;
    case 'DELETING':
      return 'Being deleted.';
    default:
      return '';
  }
}
