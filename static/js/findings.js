// The text check's findings on a page (templates/review/includes/findings.html):
// a mark in the text and its item in the list lead to each other; a reviewer's
// 引用到意见 puts the finding's quote into the comment box; on the case form,
// 检查当前文本 checks what is in the editor now, unsaved, and lists it.
// Loaded with data-* attributes on the script tag: data-mark-prefix (the ids
// of the marks, "<prefix>-<n>"), data-comment-field (the comment textarea),
// and for the form data-check-url with the translated labels.
(() => {
  "use strict";

  const script = document.currentScript;
  const options = script ? script.dataset : {};

  function flash(element) {
    element.classList.add("is-current");
    window.setTimeout(() => element.classList.remove("is-current"), 2000);
  }

  function go(element) {
    element.scrollIntoView({ block: "center", behavior: "smooth" });
    element.focus({ preventScroll: true });
    flash(element);
  }

  // Mark → item. A finding that spans several elements has several marks
  // with the same data-finding; every one of them leads to the item.
  function itemFor(mark) {
    const prefix = options.markPrefix;
    if (!prefix || mark.dataset.finding === undefined) {
      return null;
    }
    const link = document.querySelector(
      `[data-finding-mark="${CSS.escape(`${prefix}-${mark.dataset.finding}`)}"]`,
    );
    return link && link.closest("li");
  }

  // A note's marks (static/js/notes.js) share the class, not the list.
  for (const mark of document.querySelectorAll("mark.finding:not(.finding-note)")) {
    if (!itemFor(mark)) {
      continue;
    }
    mark.tabIndex = 0;
    mark.setAttribute("role", "button");
    const open = (event) => {
      event.preventDefault();
      go(itemFor(mark));
    };
    mark.addEventListener("click", open);
    mark.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        open(event);
      }
    });
  }

  // Item → mark.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-finding-mark]");
    if (!link) {
      return;
    }
    const mark = document.getElementById(link.dataset.findingMark);
    if (mark) {
      event.preventDefault();
      go(mark);
    }
  });

  // 引用到意见: the quote on a line of its own at the end of the comment.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-finding-quote]");
    const comment = document.getElementById(options.commentField || "");
    if (!button || !comment) {
      return;
    }
    const quote = button.dataset.findingQuote;
    const text = comment.value.replace(/\s+$/, "");
    comment.value = text ? `${text}\n${quote}` : quote;
    comment.dispatchEvent(new Event("input", { bubbles: true }));
    comment.focus();
    comment.setSelectionRange(comment.value.length, comment.value.length);
  });

  // 检查当前文本, on the case form.
  const checkButton = document.querySelector("[data-findings-check]");
  if (!checkButton || !options.checkUrl) {
    return;
  }
  const panel = checkButton.closest("[data-findings-panel]");
  const form = document.querySelector("form.case-form");
  const status = panel.querySelector("[data-findings-status]");

  function editorData(textarea) {
    const editable = textarea.parentElement
      && textarea.parentElement.querySelector(".ck-editor__editable");
    const editor = (editable && editable.ckeditorInstance)
      || (window.editors && window.editors[textarea.id]);
    return editor ? editor.getData() : textarea.value;
  }

  function fieldValue(name) {
    const field = form.elements.namedItem(name);
    if (!field) {
      return "";
    }
    return name === "body" ? editorData(field) : field.value;
  }

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) {
      made.className = className;
    }
    if (text !== undefined) {
      made.textContent = text;
    }
    return made;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, (whole, name) =>
      name in values ? values[name] : whole,
    );
  }

  function show(findings) {
    for (const old of panel.querySelectorAll(
      "[data-findings-list], [data-findings-empty]",
    )) {
      old.remove();
    }
    if (!findings.length) {
      const empty = element("p", "muted", options.emptyLabel);
      empty.dataset.findingsEmpty = "";
      status.parentElement.after(empty);
      return;
    }
    const list = element("ol", "findings__list");
    list.dataset.findingsList = "";
    for (const finding of findings) {
      const item = element("li", `finding-item finding-item--${finding.severity}`);
      const head = element("p", "finding-item__head");
      head.append(
        element("span", `badge badge--finding-${finding.severity}`,
          finding.severity_label),
        " ",
        element("span", "finding-item__field", finding.field_label),
        " ",
        element("strong", "finding-item__term", `“${finding.term}”`),
      );
      item.append(head, element("p", "finding-item__message", finding.message));
      if (finding.suggestion) {
        item.append(element("p", "finding-item__suggestion",
          fill(options.suggestionLabel, { suggestion: finding.suggestion })));
      }
      list.append(item);
    }
    status.parentElement.after(list);
  }

  checkButton.addEventListener("click", async () => {
    const body = new FormData();
    for (const name of ["title", "tagline", "lead", "body"]) {
      body.append(name, fieldValue(name));
    }
    body.append(
      "csrfmiddlewaretoken",
      form.elements.namedItem("csrfmiddlewaretoken").value,
    );
    checkButton.disabled = true;
    status.textContent = options.checkingLabel;
    try {
      const response = await fetch(options.checkUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        status.textContent = answer.error || options.failedLabel;
        return;
      }
      status.textContent = fill(options.checkedLabel, {
        count: answer.findings.length,
      });
      show(answer.findings);
    } catch (error) {
      status.textContent = options.failedLabel;
    } finally {
      checkButton.disabled = false;
    }
  });
})();
