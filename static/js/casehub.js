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

// CKEditor passes over a chosen file that is not one of its image types
// without a word; say why, in the words the server uses for such a file.
document.addEventListener(
  "change",
  (event) => {
    const input = event.target;
    const form = input.closest("[data-image-types-message]");
    if (!form || !input.matches(".ck-editor input[type=file]")) {
      return;
    }
    const accepted = input.accept.split(",");
    if (Array.from(input.files).some((file) => !accepted.includes(file.type))) {
      window.alert(form.dataset.imageTypesMessage);
    }
  },
  true,
);
