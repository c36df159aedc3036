// 批注: notes in the text (templates/review/includes/notes.html).
// A note's mark in the text and its item in the list lead to each other. On
// the review page (data-note-form: the id of the note form), a passage the
// reviewer selects in the body or the lead fills the form's field, start, end
// and quote. In the body the offsets are those of its visible text as the
// server reads it (textcheck/visible.py): the text nodes in order, one "\n"
// between block elements, layout whitespace at the start of a line left out.
// The lead is plain text shown through Django's linebreaks: its paragraphs
// were apart by "\n\n", its lines by "\n" (a <br>). The server checks the
// quote at those offsets and finds it by text if they are off.
(() => {
  "use strict";

  const script = document.currentScript;
  const options = script ? script.dataset : {};

  const BLOCK_TAGS = new Set([
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote",
    "table", "caption", "tr", "td", "th", "div", "figure", "figcaption", "br",
    "hr",
  ]);
  const HIDDEN_TAGS = new Set([
    "script", "style", "template", "title", "noscript", "svg", "math",
    "textarea",
  ]);
  const MAX_QUOTE = 500;

  function flash(element) {
    element.classList.add("is-current");
    window.setTimeout(() => element.classList.remove("is-current"), 2000);
  }

  function go(element) {
    element.scrollIntoView({ block: "center", behavior: "smooth" });
    element.focus({ preventScroll: true });
    flash(element);
  }

  // Mark → item: every mark of a note (one per element it crosses) carries
  // data-finding, its index among the notes marked.
  function itemFor(mark) {
    const link = document.querySelector(
      `[data-note-mark="${CSS.escape(`note-body-${mark.dataset.finding}`)}"]`,
    );
    return link && link.closest("li");
  }

  for (const mark of document.querySelectorAll("mark.finding-note")) {
    if (!itemFor(mark)) {
      continue;
    }
    mark.tabIndex = 0;
    mark.setAttribute("role", "button");
    const open = (event) => {
      // A note's mark may sit inside a finding's: the innermost one answers.
      event.preventDefault();
      event.stopPropagation();
      go(itemFor(mark));
    };
    mark.addEventListener("click", open);
    mark.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        open(event);
      }
    });
  }

  // Item → mark, on this page; a link to another page goes there.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-note-mark]");
    if (!link || link.getAttribute("href").charAt(0) !== "#") {
      return;
    }
    const mark = document.getElementById(link.dataset.noteMark);
    if (mark) {
      event.preventDefault();
      go(mark);
    }
  });
  if (window.location.hash.startsWith("#note-body-")) {
    const mark = document.getElementById(window.location.hash.slice(1));
    if (mark) {
      flash(mark);
    }
  }

  // A decision comment typed but not yet sent outlives the page reload that
  // adding or withdrawing a note makes: kept in this tab while the note goes, put back after.
  const comment = document.getElementById(options.commentField || "");
  const draftKey = `casehub.review.comment.${window.location.pathname}`;
  if (comment) {
    try {
      const draft = window.sessionStorage.getItem(draftKey);
      if (draft !== null && !comment.value) {
        comment.value = draft;
      }
      window.sessionStorage.removeItem(draftKey);
    } catch (error) {
      // no storage: nothing was kept
    }
    document.addEventListener("submit", (event) => {
      if (
        !event.target.matches("[data-note-add], [data-note-withdraw]") ||
        !comment.value
      ) {
        return;
      }
      try {
        window.sessionStorage.setItem(draftKey, comment.value);
      } catch (error) {
        // no storage: the comment is typed again
      }
    });
  }

  const form = document.getElementById(options.noteForm || "");
  const fields = [
    ["body", document.querySelector("[data-notes-text] .case-article__body"), "\n"],
    ["lead", document.querySelector("[data-notes-text] .case-article__lead"), "\n\n"],
  ].filter(([, root]) => root);
  if (!form || !fields.length) {
    return;
  }
  const shown = form.querySelector("[data-note-selection]");

  // The visible text of `root` and, for each text node in it, where it
  // starts; `paragraphBreak` is what stands between two paragraphs (<p>).
  function visibleText(root, paragraphBreak) {
    const parts = [];
    const nodes = [];
    let length = 0;
    let atLineStart = true;
    let lineBreak = "";

    function block(separator) {
      if (!atLineStart) {
        lineBreak = separator;
        atLineStart = true;
      } else if (lineBreak && separator.length > lineBreak.length) {
        lineBreak = separator;
      }
    }

    function visit(node) {
      if (node.nodeType === Node.TEXT_NODE) {
        const text = node.data;
        if (atLineStart && !text.trim()) {
          return;
        }
        if (lineBreak) {
          parts.push(lineBreak);
          length += lineBreak.length;
          lineBreak = "";
        }
        nodes.push({ node, start: length });
        parts.push(text);
        length += text.length;
        atLineStart = text.endsWith("\n");
        return;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) {
        return;
      }
      const tag = node.localName;
      if (HIDDEN_TAGS.has(tag)) {
        return;
      }
      const isBlock = BLOCK_TAGS.has(tag);
      const separator = tag === "p" ? paragraphBreak : "\n";
      if (isBlock) {
        block(separator);
      }
      for (const child of node.childNodes) {
        visit(child);
      }
      if (isBlock) {
        block(separator);
      }
    }

    for (const child of root.childNodes) {
      visit(child);
    }
    return { text: parts.join(""), nodes };
  }

  // The visible offset of a boundary point of a selection.
  function offsetAt(read, container, offset) {
    if (container.nodeType === Node.TEXT_NODE) {
      const entry = read.nodes.find((candidate) => candidate.node === container);
      if (entry) {
        return entry.start + Math.min(offset, container.data.length);
      }
    }
    const point = document.createRange();
    point.setStart(container, offset);
    for (const entry of read.nodes) {
      if (point.comparePoint(entry.node, 0) >= 0) {
        return entry.start;
      }
    }
    return read.text.length;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, (whole, name) =>
      name in values ? values[name] : whole,
    );
  }

  function setField(name, value) {
    form.elements.namedItem(name).value = value;
  }

  document.addEventListener("selectionchange", () => {
    const selection = document.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) {
      return;
    }
    const range = selection.getRangeAt(0);
    const selected = fields.find(([, root]) =>
      root.contains(range.commonAncestorContainer),
    );
    if (!selected) {
      return;
    }
    const [name, root, paragraphBreak] = selected;
    const read = visibleText(root, paragraphBreak);
    let start = offsetAt(read, range.startContainer, range.startOffset);
    let end = offsetAt(read, range.endContainer, range.endOffset);
    while (start < end && /\s/.test(read.text.charAt(start))) {
      start += 1;
    }
    while (end > start && /\s/.test(read.text.charAt(end - 1))) {
      end -= 1;
    }
    if (end <= start) {
      return;
    }
    const quote = read.text.slice(start, end);
    if (quote.length > MAX_QUOTE) {
      shown.textContent = options.tooLongLabel;
      setField("quote", "");
      return;
    }
    setField("field", name);
    setField("start", start);
    setField("end", end);
    setField("quote", quote);
    shown.textContent = fill(options.selectedLabel, { quote });
  });
})();
