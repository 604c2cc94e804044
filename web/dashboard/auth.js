// The dashboard's token, for replicas that require one (DESIGN §6). A link can carry it in the URL
// fragment (`/#token=<jwt>`: the fragment never reaches a server or its logs); the page moves it
// to sessionStorage (this tab only) and takes it out of the address bar. When the server refuses
// the token, or none was given, the header asks for one.

const STORAGE_KEY = 'kubecast.token';

/** sessionStorage, or null where it is unavailable (sandboxed frames, privacy modes). */
function tabStorage() {
  try {
    return globalThis.sessionStorage || null;
  } catch {
    return null;
  }
}

/**
 * The token to start with: one from the URL fragment (then stored and removed from the URL,
 * other fragment parameters such as `ns` kept), else the stored one, else undefined.
 * @returns {string | undefined}
 */
export function initialToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get('token');
  if (fromUrl) {
    storeToken(fromUrl);
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
    return fromUrl;
  }
  const stored = tabStorage()?.getItem(STORAGE_KEY);
  return stored || undefined;
}

/** @param {string} token */
export function storeToken(token) {
  try {
    tabStorage()?.setItem(STORAGE_KEY, token);
  } catch {
    /* storage full or refused: the token still works for this page */
  }
}

/**
 * The header's token form: shown with `message` by `ask`, hidden once a token is submitted;
 * `onToken` gets the new token.
 * @param {HTMLFormElement} form
 * @param {(token: string) => void} onToken
 */
export function tokenForm(form, onToken) {
  const input = /** @type {HTMLInputElement} */ (form.querySelector('input'));
  const message = /** @type {HTMLElement} */ (form.querySelector('.auth-message'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    input.value = '';
    form.hidden = true;
    storeToken(token);
    onToken(token);
  });
  return {
    /** @param {string} text */
    ask(text) {
      message.textContent = text;
      form.hidden = false;
      input.focus();
    },
  };
}
