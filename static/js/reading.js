// Reading aids: the text size and contrast switches (remembered in this
// browser), and on a phone the editor's note folded to its first lines and the
// series filters folded away. Without scripts every page shows all of it.
(() => {
  const root = document.documentElement;
  const SIZE_KEY = "casehub.reading.size";
  const CONTRAST_KEY = "casehub.reading.contrast";
  const SIZES = ["standard", "large", "x-large"];
  const phone = window.matchMedia("(max-width: 40rem)");

  function remember(key, value) {
    try {
      if (value === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, value);
      }
    } catch (error) {
      // no storage: the choice holds for this page only
    }
  }

  function switchesShow() {
    const size = SIZES.includes(root.dataset.textSize)
      ? root.dataset.textSize
      : "standard";
    for (const button of document.querySelectorAll("[data-size-choice]")) {
      button.setAttribute("aria-pressed", String(button.dataset.sizeChoice === size));
    }
    for (const button of document.querySelectorAll("[data-contrast-toggle]")) {
      button.setAttribute("aria-pressed", String(root.dataset.contrast === "high"));
    }
  }

  function textSizeSet(size) {
    if (!SIZES.includes(size)) {
      return;
    }
    if (size === "standard") {
      delete root.dataset.textSize;
      remember(SIZE_KEY, null);
    } else {
      root.dataset.textSize = size;
      remember(SIZE_KEY, size);
    }
    switchesShow();
    notesLayout();
  }

  function contrastToggle() {
    if (root.dataset.contrast === "high") {
      delete root.dataset.contrast;
      remember(CONTRAST_KEY, null);
    } else {
      root.dataset.contrast = "high";
      remember(CONTRAST_KEY, "high");
    }
    switchesShow();
  }

  function noteFold(note, folded) {
    const button = note.querySelector(".editors-note__toggle");
    note.classList.toggle("is-folded", folded);
    button.setAttribute("aria-expanded", String(!folded));
    button.textContent = folded
      ? button.dataset.labelExpand
      : button.dataset.labelCollapse;
  }

  // Folded only on a phone, and only when the note is longer than its first
  // lines: a 展开 that shows nothing more would be a button that lies.
  function notesLayout() {
    for (const note of document.querySelectorAll("[data-collapsible]")) {
      const button = note.querySelector(".editors-note__toggle");
      const text = note.querySelector(".editors-note__text");
      if (!button || !text) {
        continue;
      }
      if (!phone.matches) {
        noteFold(note, false);
        button.hidden = true;
        continue;
      }
      const wasFolded = note.classList.contains("is-folded");
      noteFold(note, true);
      const longer = text.scrollHeight > text.clientHeight + 1;
      button.hidden = !longer;
      if (!longer || (button.dataset.touched && !wasFolded)) {
        noteFold(note, false);
      }
    }
  }

  function filtersLayout() {
    for (const fold of document.querySelectorAll("details.filter-fold")) {
      fold.open = !phone.matches || fold.hasAttribute("data-filters-active");
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    const sizeButton = target.closest("[data-size-choice]");
    if (sizeButton) {
      textSizeSet(sizeButton.dataset.sizeChoice);
      return;
    }
    if (target.closest("[data-contrast-toggle]")) {
      contrastToggle();
      return;
    }
    const toggle = target.closest(".editors-note__toggle");
    if (toggle) {
      const note = toggle.closest("[data-collapsible]");
      toggle.dataset.touched = "1";
      noteFold(note, !note.classList.contains("is-folded"));
    }
  });

  phone.addEventListener("change", () => {
    notesLayout();
    filtersLayout();
  });
  switchesShow();
  notesLayout();
  filtersLayout();
})();
