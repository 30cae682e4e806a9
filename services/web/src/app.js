// The web app: sign in (with Cognito's new-password challenge), then upload files and watch
// them get verified. Its settings are config.json beside the page:
// {apiUrl, region, cognitoEndpoint, userPoolClientId}.
import { apiClient } from './api.js';
import { currentSession, forgetSession, setNewPassword, signIn } from './auth.js';
import { showFiles } from './files.js';
import { showUploads } from './upload-list.js';
import { createUploader, forgetStaleUploads, forgetUploads } from './uploads.js';
import { errorInWords, signInErrorInWords } from './words.js';

const view = document.getElementById('view');
const message = document.getElementById('message');
const account = document.getElementById('account');

// What the signed-in view runs (polling, rendering): stopped when another view replaces it.
let running = [];
// Lives as long as the page: after a session expires and the same user signs in again,
// the uploads in flight carry on.
let uploader = null;
let uploaderUser = null;
let files = null;
// Sign-out in one tab signs out the others (a duplicated tab copies sessionStorage).
const tabs = new BroadcastChannel('secure-upload');
// Sign-outs cancel uploads with a token that is already forgotten: they wait this long.
const SIGN_OUT_WAIT_MS = 3000;

function say(text) {
  message.textContent = text;
}

function show(templateId) {
  for (const part of running) part.stop();
  running = [];
  view.replaceChildren(document.getElementById(templateId).content.cloneNode(true));
  return view.querySelector('form');
}

/** Runs `action(form)` on submit, the button held down meanwhile, a refusal in words. */
function onSubmit(form, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    try {
      await action(form);
    } catch (error) {
      say(signInErrorInWords(error));
    } finally {
      submit.disabled = false;
    }
  });
}

function showSignIn(note = '') {
  account.replaceChildren();
  const form = show('sign-in');
  say(note);
  onSubmit(form, async () => {
    proceed(await signIn(config, form.email.value.trim(), form.password.value));
  });
  form.email.focus();
}

function showNewPassword(challenge) {
  const form = show('new-password');
  say('');
  onSubmit(form, async () => {
    proceed(await setNewPassword(config, challenge, form.newPassword.value));
  });
  form.newPassword.focus();
}

function proceed(result) {
  if (result.session) {
    showApp(result.session);
  } else if (result.challenge.name === 'NEW_PASSWORD_REQUIRED') {
    showNewPassword(result.challenge);
  } else {
    say(`This account needs a sign-in step this app does not offer (${result.challenge.name}).`);
  }
}

function showApp(session) {
  if (uploader && uploaderUser !== session.sub) {
    // Another user: nothing of the last one's stays in the page.
    window.location.reload();
    return;
  }
  uploaderUser = session.sub;
  uploader ??= createUploader({
    api,
    userId: session.sub,
    onFinished: () => files?.refresh(),
    onError: (error) => say(errorInWords(error)),
  });
  showAccount(session);
  show('signed-in');
  say('');
  files = showFiles(
    api,
    {
      table: view.querySelector('#files'),
      empty: view.querySelector('#files-empty'),
      more: view.querySelector('#files-more'),
    },
    say,
  );
  running = [files, showUploads(uploader, view.querySelector('#uploads'))];
  acceptFiles(view.querySelector('#choose-files'), view.querySelector('#drop-zone'));
}

function showAccount(session) {
  const who = document.createElement('span');
  who.textContent = `Signed in as ${session.email}`;
  const signOut = document.createElement('button');
  signOut.type = 'button';
  signOut.textContent = 'Sign out';
  signOut.addEventListener('click', async () => {
    signOut.disabled = true;
    // The token and the resume records go at once; the cancels of unfinished uploads get a
    // few seconds (and outlive the page); then a fresh page: nothing of this user stays.
    const token = currentSession()?.idToken ?? '';
    forgetSession();
    tabs.postMessage({ signedOut: session.sub });
    const cancelling = apiClient(config, () => token, () => {}, {
      timeoutMs: SIGN_OUT_WAIT_MS,
      keepalive: true,
    });
    await forgetUploads(cancelling, session.sub);
    window.location.reload();
  });
  account.replaceChildren(who, signOut);
}

function acceptFiles(input, dropZone) {
  const add = (chosen) => {
    for (const file of chosen) {
      try {
        uploader.uppy.addFile({ name: file.name, type: file.type, data: file, source: 'Local' });
      } catch (error) {
        say(error.message); // Uppy's refusal, e.g. the same file twice
      }
    }
  };
  input.addEventListener('change', () => {
    const chosen = [...input.files];
    input.value = ''; // so choosing the same file again is a change too
    add(chosen);
  });
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('dragging');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('dragging');
    add(event.dataTransfer.files);
  });
}

function sessionExpired() {
  if (!files) return; // already at the sign-in form
  files = null;
  forgetSession();
  showSignIn('Your session has expired. Sign in again.');
}

async function loadConfig() {
  // From the root, wherever the page was opened: the one Terraform wrote.
  const response = await fetch('/config.json');
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return response.json();
}

let config;
try {
  config = await loadConfig();
} catch (error) {
  say(`The app cannot start: its settings could not be read (${error.message}).`);
  throw error;
}
// The token of the user whose uploads this page runs, never another's: after a session
// expires, uploads still in flight must not go on under whoever signs in next.
function tokenOfThisPagesUser() {
  const current = currentSession();
  return current && (uploaderUser === null || current.sub === uploaderUser) ? current.idToken : '';
}

tabs.addEventListener('message', ({ data }) => {
  if (data?.signedOut && data.signedOut === currentSession()?.sub) {
    forgetSession();
    window.location.reload();
  }
});
forgetStaleUploads();
const api = apiClient(config, tokenOfThisPagesUser, sessionExpired);
const session = currentSession();
if (session) showApp(session);
else showSignIn();
