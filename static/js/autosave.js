// Nothing typed in the case form is lost (templates/submissions/includes/case_autosave.html).
//
// - A copy of the form is kept in this browser's localStorage while the person
//   types (a few seconds after a change, and whenever the page is hidden), so
//   it survives a crash or a closed tab. Its key names the user, the case (or
//   "new") and the organisation: casehub.autosave:<user>:<case|new>:<branch>.
//   Signing out removes every copy (static/js/casehub.js).
// - Opening the form again with a copy newer than the saved case, and
//   different from it, offers to restore it. The restored text goes back with
//   the version it was based on, so if someone saved the case since, saving
//   shows the conflict page, as any late save does.
// - Leaving the page with changes asks first; saving the form does not.
// - The save and the editor's image uploads send the CSRF cookie's current
//   token: signing in again in another tab changes it, and neither must be
//   refused for that.
(() => {
  "use strict";

  const PREFIX = "casehub.autosave:";
  const FORMAT = 1;
  const WRITE_AFTER_MS = 2000;
  const EDITOR_WAIT_MS = 10000;
  const KEEP_FOR_MS = 30 * 24 * 3600 * 1000;
  // Fields that are not the text: the form's bookkeeping and chosen files.
  const NOT_CONTENT = new Set([
    "csrfmiddlewaretoken",
    "version",
    "autosave_owner",
    "autosave_copy",
  ]);

  const root = document.querySelector("[data-autosave]");
  const form = root && root.closest("form");
  if (!form) {
    return;
  }
  const storage = localStorageOrNull();
  const config = root.dataset;
  // Times are kept on the server's clock, so they compare with the time the
  // case was saved. The page's clock reading is a little late, which only
  // makes copies look older than they are.
  const clockOffset = Number(config.serverNow) / 1000 - Date.now();
  const savedAt = Number(config.savedAt) / 1000;
  const copyId = randomId();
  const unsavedPage = config.unsaved === "1";
  const offer = root.querySelector("[data-autosave-offer]");
  const restoredNote = root.querySelector("[data-autosave-restored]");
  const bodyField = form.querySelector("textarea.django_ckeditor_5");

  let editor = null;
  let baseline = null; // the form as the saved case fills it
  let writtenKey = null;
  let writeTimer = null;
  let offered = null; // the copy on offer, until restored or discarded
  let submitting = false;
  let signingOut = false;

  function localStorageOrNull() {
    try {
      const probe = `${PREFIX}probe`;
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (error) {
      return null; // private mode or storage switched off: the warning remains
    }
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function serverNow() {
    return Date.now() + clockOffset;
  }

  function branchOf(fields) {
    if (config.branch) {
      return config.branch;
    }
    return (fields.branch && fields.branch[0]) || "";
  }

  function keyFor(branch) {
    return `${PREFIX}${config.user}:${config.case}:${branch}`;
  }

  function bodyHtml() {
    return editor ? editor.getData() : bodyField ? bodyField.value : "";
  }

  // The form's content as {name: [values]}, in a stable order.
  function snapshot() {
    const fields = {};
    for (const element of form.elements) {
      const name = element.name;
      if (!name || NOT_CONTENT.has(name) || element.type === "file") {
        continue;
      }
      if (name.endsWith("-clear") || element.type === "submit") {
        continue;
      }
      if (!(name in fields)) {
        fields[name] = [];
      }
      if (element === bodyField) {
        fields[name].push(bodyHtml());
      } else if (element.type === "checkbox" || element.type === "radio") {
        if (element.checked) {
          fields[name].push(element.value);
        }
      } else if (element.tagName === "SELECT") {
        for (const option of element.selectedOptions) {
          fields[name].push(option.value);
        }
      } else {
        fields[name].push(element.value);
      }
    }
    return fields;
  }

  function sameFields(first, second) {
    const names = new Set([...Object.keys(first), ...Object.keys(second)]);
    for (const name of names) {
      const one = first[name] || [];
      const other = second[name] || [];
      if (one.length !== other.length || one.some((value, index) => value !== other[index])) {
        return false;
      }
    }
    return true;
  }

  function changed() {
    return unsavedPage || baseline === null || !sameFields(snapshot(), baseline);
  }

  function readCopy(key) {
    let copy;
    try {
      copy = JSON.parse(storage.getItem(key));
    } catch (error) {
      return null;
    }
    const valid =
      copy &&
      copy.format === FORMAT &&
      typeof copy.keptAt === "number" &&
      copy.fields &&
      typeof copy.fields === "object" &&
      Object.values(copy.fields).every(
        (values) => Array.isArray(values) && values.every((value) => typeof value === "string"),
      );
    return valid ? copy : null;
  }

  function ownKeys() {
    const own = `${PREFIX}${config.user}:`;
    const keys = [];
    for (let index = 0; index < storage.length; index += 1) {
      const key = storage.key(index);
      if (key && key.startsWith(own)) {
        keys.push(key);
      }
    }
    return keys;
  }

  function remove(key) {
    storage.removeItem(key);
    if (key === writtenKey) {
      writtenKey = null;
    }
  }

  function write() {
    window.clearTimeout(writeTimer);
    writeTimer = null;
    // Held back while a kept copy is on offer: writing now would replace it.
    if (!storage || baseline === null || offered || signingOut) {
      return;
    }
    const fields = snapshot();
    const key = keyFor(branchOf(fields));
    if (writtenKey && writtenKey !== key) {
      remove(writtenKey); // the organisation was changed on a new case
    }
    if (!unsavedPage && sameFields(fields, baseline)) {
      remove(key); // back to the saved text: nothing to keep
      return;
    }
    const version = form.elements.namedItem("version");
    const copy = {
      format: FORMAT,
      id: copyId,
      keptAt: serverNow(),
      version: version && version.value !== "" ? Number(version.value) : null,
      fields,
    };
    try {
      storage.setItem(key, JSON.stringify(copy));
      writtenKey = key;
    } catch (error) {
      // Storage full: the leave-page warning still guards the text.
    }
  }

  function changeNoted() {
    signingOut = false;
    if (writeTimer === null) {
      writeTimer = window.setTimeout(write, WRITE_AFTER_MS);
    }
  }

  // Copies the server says are saved, copies older than the saved case, and
  // copies left for months go; the newest other copy for this form is offered.
  function tidyAndFindCopy() {
    const saved = new Set((config.savedCopies || "").split(" ").filter(Boolean));
    const branches = branchChoices();
    let found = null;
    for (const key of ownKeys()) {
      const copy = readCopy(key);
      if (!copy || saved.has(copy.id) || copy.keptAt < serverNow() - KEEP_FOR_MS) {
        storage.removeItem(key);
        continue;
      }
      const [, caseName, branch] = key.slice(PREFIX.length).split(":");
      if (caseName !== config.case || !branches.has(branch)) {
        continue;
      }
      if (copy.keptAt <= savedAt || sameFields(copy.fields, baseline)) {
        storage.removeItem(key); // the case was saved after it, or holds it
        continue;
      }
      if (!found || copy.keptAt > found.copy.keptAt) {
        found = { key, copy };
      }
    }
    return found;
  }

  function branchChoices() {
    if (config.branch) {
      return new Set([config.branch]);
    }
    const field = form.elements.namedItem("branch");
    if (!field) {
      return new Set([""]);
    }
    if (field.tagName === "SELECT") {
      return new Set(Array.from(field.options, (option) => option.value));
    }
    return new Set([field.value]);
  }

  function showOffer(found) {
    offered = found;
    const time = offer.querySelector("[data-autosave-time]");
    const kept = new Date(found.copy.keptAt - clockOffset);
    time.dateTime = kept.toISOString();
    time.textContent = formatTime(kept);
    const newer = Number(config.version || 0) > (found.copy.version || 0);
    offer.querySelector("[data-autosave-newer]").hidden = !(config.case !== "new" && newer);
    offer.hidden = false;
  }

  function formatTime(date) {
    const two = (number) => String(number).padStart(2, "0");
    return (
      `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
      `${two(date.getHours())}:${two(date.getMinutes())}`
    );
  }

  function restore() {
    const { copy } = offered;
    for (const element of form.elements) {
      const name = element.name;
      if (!name || !(name in copy.fields) || element.type === "file") {
        continue;
      }
      const values = copy.fields[name];
      if (element === bodyField) {
        if (editor) {
          editor.setData(values[0] || "");
        } else {
          bodyField.value = values[0] || "";
        }
      } else if (element.type === "checkbox" || element.type === "radio") {
        element.checked = values.includes(element.value);
      } else if (element.tagName === "SELECT") {
        for (const option of element.options) {
          option.selected = values.includes(option.value);
        }
      } else if (element.type !== "submit") {
        element.value = values[0] || "";
      }
    }
    const version = form.elements.namedItem("version");
    if (version && copy.version !== null && copy.version !== undefined) {
      version.value = String(copy.version);
    }
    const restoredKey = offered.key;
    offered = null;
    offer.hidden = true;
    restoredNote.hidden = false;
    if (restoredKey !== keyFor(branchOf(snapshot()))) {
      storage.removeItem(restoredKey);
    }
    write();
  }

  function discard() {
    storage.removeItem(offered.key);
    offered = null;
    offer.hidden = true;
    write(); // what was typed meanwhile, held back while the offer stood
  }

  // The CSRF token the cookie holds now (null where the token lives in the
  // session): signing in again in another tab replaces it.
  function csrfCookieToken() {
    const name = config.csrfCookie;
    if (!name) {
      return null;
    }
    const cookie = document.cookie
      .split(";")
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${name}=`));
    return cookie ? decodeURIComponent(cookie.slice(name.length + 1)) : null;
  }

  function csrfTokenRefresh() {
    const field = form.elements.namedItem("csrfmiddlewaretoken");
    const token = csrfCookieToken();
    if (field && token) {
      field.value = token;
    }
  }

  // django-ckeditor-5 gives the image upload the token the cookie held when
  // the editor started; each upload reads it afresh instead.
  function uploadsSendTheCurrentToken(readyEditor) {
    if (!readyEditor.plugins.has("FileRepository")) {
      return;
    }
    const repository = readyEditor.plugins.get("FileRepository");
    const createAdapter = repository.createUploadAdapter;
    if (typeof createAdapter !== "function") {
      return;
    }
    repository.createUploadAdapter = (loader) => {
      const adapter = createAdapter(loader);
      const options = adapter && adapter.options;
      if (options && options.headers && typeof options.headers === "object") {
        const started = options.headers;
        adapter.options = {
          ...options,
          headers: () => {
            const token = csrfCookieToken();
            return token ? { ...started, "X-CSRFToken": token } : started;
          },
        };
      }
      return adapter;
    };
  }

  function start(readyEditor) {
    editor = readyEditor;
    baseline = unsavedPage ? {} : snapshot();
    if (editor) {
      editor.model.document.on("change:data", changeNoted);
      uploadsSendTheCurrentToken(editor);
    }
    if (storage) {
      const found = unsavedPage ? null : tidyAndFindCopy();
      if (found) {
        showOffer(found);
      } else if (unsavedPage) {
        write(); // text sent back by the server is not saved yet either
      }
    }
  }

  // django-ckeditor-5 creates the editor after the page has loaded and lists
  // it in window.editors; the form's baseline is read from the editor itself,
  // since it writes the same HTML back a little differently.
  function whenEditorReady(callback) {
    if (!bodyField) {
      callback(null);
      return;
    }
    const started = Date.now();
    const look = () => {
      const ready = window.editors && window.editors[bodyField.id];
      if (ready) {
        callback(ready);
      } else if (Date.now() - started > EDITOR_WAIT_MS) {
        callback(null);
      } else {
        window.setTimeout(look, 50);
      }
    };
    look();
  }

  form.addEventListener("input", changeNoted);
  form.addEventListener("change", changeNoted);
  offer.querySelector("[data-autosave-restore]").addEventListener("click", restore);
  offer.querySelector("[data-autosave-discard]").addEventListener("click", discard);

  document.addEventListener("submit", (event) => {
    if (event.defaultPrevented) {
      return;
    }
    if (event.target === form) {
      submitting = true;
      offered = null; // saving the form as it is answers the offer
      write(); // if the save does not go through, the copy is there
      form.elements.namedItem("autosave_copy").value = copyId;
      csrfTokenRefresh();
    } else if (event.target.matches("[data-sign-out]")) {
      signingOut = true; // casehub.js forgets the copies; do not write them again
      window.clearTimeout(writeTimer);
      writeTimer = null;
    }
  });

  window.addEventListener("beforeunload", (event) => {
    if (submitting || baseline === null || !changed()) {
      return;
    }
    write();
    event.preventDefault();
    event.returnValue = ""; // older Chromium asks only when this is set
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && writeTimer !== null) {
      write();
    }
  });

  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      submitting = false; // back from the next page: the form is live again
    }
  });

  whenEditorReady(start);
})();
