// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// CKEditor passes over a file that is not one of its image types without a
// word, whether it was chosen, dropped or pasted; say why, in the words the
// server uses for such a file.
function refusedFilesWarn(form, files) {
  const picker = form.querySelector(".ck-editor input[type=file]");
  if (!picker || !files.length) {
    return;
  }
  const accepted = picker.accept.split(",");
  if (files.some((file) => !accepted.includes(file.type))) {
    window.alert(form.dataset.imageTypesMessage);
  }
}

document.addEventListener(
  "change",
  (event) => {
    const input = event.target;
    const form = input.closest("[data-image-types-message]");
    if (form && input.matches(".ck-editor input[type=file]")) {
      refusedFilesWarn(form, Array.from(input.files));
    }
  },
  true,
);

for (const type of ["drop", "paste"]) {
  document.addEventListener(
    type,
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const form = target && target.closest("[data-image-types-message]");
      if (!form || !target.closest(".ck-editor__editable")) {
        return;
      }
      const transfer = event.dataTransfer || event.clipboardData;
      refusedFilesWarn(form, transfer ? Array.from(transfer.files) : []);
    },
    true,
  );
}

// Signing out forgets the copies of unsaved case text this browser kept
// (static/js/autosave.js), so the next person at a shared computer finds none.
document.addEventListener("submit", (event) => {
  if (!event.target.matches("[data-sign-out]")) {
    return;
  }
  try {
    const storage = window.localStorage;
    for (let index = storage.length - 1; index >= 0; index -= 1) {
      const key = storage.key(index);
      if (key && key.startsWith("casehub.autosave:")) {
        storage.removeItem(key);
      }
    }
  } catch (error) {
    // no storage: nothing was kept
  }
});
