// 字数 under the case editor, counted as the server counts it at submit
// (casehub/zishu.py has the rule and says why; keep the two the same: the
// browser tests run both over the same table), with the limits of the call the
// case answers. Loaded by templates/submissions/includes/zishu_counter.html;
// its data-* attributes carry the field's id and the translated labels.
(() => {
  "use strict";

  const script = document.currentScript;

  // A comment, a bogus comment or doctype, or a tag with its attributes;
  // unclosed, each runs to the end, so the pattern always matches where it
  // starts and never backtracks over the text.
  const MARKUP =
    /<!--[\s\S]*?(?:-->|$)|<(?:(\/)?([A-Za-z][^\t\n\f\r />"']*)|[!?/])(?:[^"'>]+|"[^"]*(?:"|$)|'[^']*(?:'|$))*(?:>|$)/g;
  const INLINE_TAGS = new Set([
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del",
    "dfn", "em", "font", "i", "ins", "kbd", "mark", "q", "s", "samp", "small",
    "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var",
  ]);
  const COUNTED =
    /[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{3ffff}]|[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+(?:['\u2019.,-][A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+)*/gu;
  // Entities are decoded by the browser's own parser: a textarea's content is
  // read as text, so nothing in it becomes an element or runs.
  const decoder = document.createElement("textarea");

  function visibleText(html) {
    // The server reads at most CASEHUB_RICHTEXT_MAX_BYTES characters; text
    // longer than that cannot be saved, so the two agree on all that can.
    const stripped = String(html || "").replace(MARKUP, (tag, closing, name) =>
      name === undefined || INLINE_TAGS.has(name.toLowerCase()) ? "" : " ",
    );
    decoder.innerHTML = stripped;
    return decoder.value;
  }

  function zishu(html) {
    return (visibleText(html).match(COUNTED) || []).length;
  }

  function imageCount(html) {
    let count = 0;
    for (const match of String(html || "").matchAll(MARKUP)) {
      if (match[2] !== undefined && match[1] === undefined
          && match[2].toLowerCase() === "img") {
        count += 1;
      }
    }
    return count;
  }

  window.casehubZishu = { zishu, imageCount, visibleText };

  const textarea = document.getElementById(script.dataset.field || "");
  if (!textarea) {
    return;
  }
  const form = textarea.form;
  const labels = script.dataset;
  const grouped = (number) => number.toLocaleString("en-US");
  const fill = (template, values) =>
    template.replace(/%\((\w+)\)s/g, (whole, name) =>
      name in values ? values[name] : whole,
    );

  const output = document.createElement("p");
  output.className = "zishu";
  output.id = `${textarea.id}_zishu`;
  output.setAttribute("aria-live", "polite");
  const container = textarea.closest(".ck-editor-container") || textarea;
  container.after(output);

  function limitsOfCall() {
    const select = form && form.elements.namedItem("campaign");
    const option = select && select.selectedOptions && select.selectedOptions[0];
    if (!option || !option.dataset.limits) {
      return null;
    }
    const number = (value) =>
      value === "" || value === undefined ? null : Number(value);
    return {
      text: option.dataset.limits,
      minZishu: number(option.dataset.minZishu),
      maxZishu: number(option.dataset.maxZishu),
      maxImages: number(option.dataset.maxImages),
    };
  }

  function show(html) {
    const count = zishu(html);
    const images = imageCount(html);
    const limits = limitsOfCall();
    const parts = [
      fill(labels.countLabel, { count: grouped(count) }),
      fill(labels.imagesLabel, { count: grouped(images) }),
    ];
    let outside = false;
    if (limits) {
      parts.push(fill(labels.limitsLabel, { limits: limits.text }));
      outside =
        (limits.minZishu !== null && count < limits.minZishu)
        || (limits.maxZishu !== null && count > limits.maxZishu)
        || (limits.maxImages !== null && images > limits.maxImages);
    }
    output.textContent = parts.join(" · ");
    output.dataset.zishu = String(count);
    output.dataset.images = String(images);
    output.classList.toggle("zishu--outside", outside);
  }

  let editor = null;
  let timer = null;
  const current = () => (editor ? editor.getData() : textarea.value);
  const later = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => show(current()), 250);
  };

  function attach(instance) {
    if (editor || !instance) {
      return;
    }
    editor = instance;
    editor.model.document.on("change:data", later);
    if (editor.state === "ready") {
      show(current());
    } else {
      editor.on("ready", () => show(current()));
    }
  }

  // The editor is made after the page loads, by django-ckeditor-5's script,
  // which keeps one creation callback per field; other scripts may want it, so
  // this one finds the editor through the editable element instead.
  function find() {
    const editable = textarea.parentElement
      && textarea.parentElement.querySelector(".ck-editor__editable");
    const instance = (editable && editable.ckeditorInstance)
      || (window.editors && window.editors[textarea.id]);
    attach(instance);
    return Boolean(editor);
  }

  show(textarea.value);
  if (form) {
    form.addEventListener("change", (event) => {
      if (event.target.name === "campaign") {
        show(current());
      }
    });
  }
  if (!find()) {
    const observer = new MutationObserver(() => {
      if (find()) {
        observer.disconnect();
      }
    });
    observer.observe(textarea.parentElement || document.body, {
      childList: true,
      subtree: true,
    });
  }
})();
