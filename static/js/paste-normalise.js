// What is pasted into the case editor, shown at once as the server will store
// it: lines numbered 一、 become headings (level 2), lines numbered （一） or
// (一) sub-headings (level 3); a paragraph broken by line breaks becomes one
// paragraph per line, a heading one heading per line; empty paragraphs and
// typed indents go. The server (casehub/normalise.py) does the same on every
// save and stays the authority; this only spares the writer a surprise. The
// rules are the server's, kept short: a heading has at most 40 characters and
// no 。！？； in it, and 一、二季度… is no heading but a count of numbers.
//
// Only CKEditor 5's public API is used: the ClipboardPipeline plugin's
// inputTransformation event (after Paste from Office has done its work) and
// the data processor's toData/toView.
(function () {
  "use strict";

  const NUMERALS = "一二三四五六七八九十";
  const SECTION = new RegExp("^([" + NUMERALS + "]{1,3})、");
  const NUMERAL_RUN = new RegExp("^[" + NUMERALS + "]+");
  const SUBSECTION = new RegExp("^[（(][" + NUMERALS + "]{1,3}[）)]");
  const SENTENCE = /[。！？；!?;]/;
  const INDENT_CHARS = " \t\n\f\r\u00a0\u3000";
  const LEADING_INDENT = /^[ \t\n\f\r\u00a0\u3000]+/;
  const HEADING_MAX_CHARS = 40;
  const UNWRAPPED_IN_HEADINGS = "b, strong, span, font";
  const LEFT_ALONE = "table, ul, ol, blockquote, figure, li";
  const BLOCKS = "p, div, h1, h2, h3, h4, h5, h6, table, ul, ol, blockquote, figure, section";
  // What the server never splits or searches: its content is not text.
  const OPAQUE = "svg, math, template, object";

  function isBlank(text) {
    for (const char of text) {
      if (!INDENT_CHARS.includes(char)) {
        return false;
      }
    }
    return true;
  }

  // What 一 … 九十九 count to; 0 for anything else (十十, 二三).
  function numeralValue(numeral) {
    const digit = (char) => NUMERALS.indexOf(char) + 1;
    const parts = numeral.split("十");
    if (parts.length === 1) {
      return numeral.length === 1 ? digit(numeral) : 0;
    }
    const [tens, units] = parts;
    if (parts.length > 2 || tens.length > 1 || units.length > 1) {
      return 0;
    }
    return (tens ? digit(tens) : 1) * 10 + (units ? digit(units) : 0);
  }

  // 一、二季度 is the first and second quarters, not a heading: what follows
  // the number starts with the next number. 一、三措并举 is a heading.
  function countsOn(number, rest) {
    const following = rest.match(NUMERAL_RUN);
    const value = numeralValue(number);
    return Boolean(value && following) && numeralValue(following[0]) === value + 1;
  }

  function headingLevel(text) {
    const line = text.replace(LEADING_INDENT, "").replace(/[ \t\n\f\r\u00a0\u3000]+$/, "");
    if (Array.from(line).length > HEADING_MAX_CHARS || SENTENCE.test(line)) {
      return 0;
    }
    const section = line.match(SECTION);
    if (section) {
      const rest = line.slice(section[0].length).replace(LEADING_INDENT, "");
      return rest && !countsOn(section[1], rest) ? 2 : 0;
    }
    const subsection = line.match(SUBSECTION);
    return subsection && !isBlank(line.slice(subsection[0].length)) ? 3 : 0;
  }

  // Removes the spaces a line starts with, up to its first visible thing.
  function stripIndent(element) {
    const walker = element.ownerDocument.createTreeWalker(
      element, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        if (node.matches("img, br")) {
          return;
        }
        continue;
      }
      const stripped = node.data.replace(LEADING_INDENT, "");
      node.data = stripped;
      if (stripped) {
        return;
      }
    }
  }

  function hasBreak(node) {
    return node.nodeType === Node.ELEMENT_NODE && !node.matches(OPAQUE)
      && Boolean(node.querySelector("br"));
  }

  // `nodes` cut at every <br> inside them, however deep, the formatting
  // around a break copied to both sides of it (the server's _split_lines).
  // A side with nothing of an element's gets no copy of it.
  function splitNodes(nodes) {
    const lines = [[]];
    for (const node of nodes) {
      if (node.nodeName === "BR") {
        lines.push([]);
      } else if (hasBreak(node)) {
        splitNodes(Array.from(node.childNodes)).forEach((part, index) => {
          if (index) {
            lines.push([]);
          }
          if (part.length) {
            const copy = node.cloneNode(false);
            copy.append(...part);
            lines[lines.length - 1].push(copy);
          }
        });
      } else {
        lines[lines.length - 1].push(node);
      }
    }
    return lines;
  }

  // A block cut at its line breaks: a division into paragraphs, a paragraph
  // or a heading into copies of it (a Word heading style is in its class).
  function splitAtBreaks(block) {
    if (!block.querySelector("br")) {
      return [block];
    }
    const lines = splitNodes(Array.from(block.childNodes)).map((nodes) => {
      const line = block.tagName === "DIV"
        ? block.ownerDocument.createElement("p") : block.cloneNode(false);
      line.append(...nodes);
      return line;
    });
    block.replaceWith(...lines);
    return lines;
  }

  function normaliseLine(line) {
    stripIndent(line);
    if (isBlank(line.textContent) && !line.querySelector("img")) {
      line.remove();
      return;
    }
    // Word's Heading 1 is <h1>, which our editor does not have: level 2.
    const level = headingLevel(line.textContent) || (line.tagName === "H1" ? 2 : 0);
    if (!level || line.tagName === "H" + level) {
      return;
    }
    const heading = line.ownerDocument.createElement("h" + level);
    heading.append(...Array.from(line.childNodes));
    for (const wrapper of Array.from(heading.querySelectorAll(UNWRAPPED_IN_HEADINGS))) {
      wrapper.replaceWith(...Array.from(wrapper.childNodes));
    }
    line.replaceWith(heading);
  }

  function normalise(html) {
    const page = new DOMParser().parseFromString(html, "text/html");
    const candidates = page.body.querySelectorAll("p, div, h1, h2, h3, h4, h5, h6");
    for (const block of Array.from(candidates)) {
      if (!block.isConnected || block.closest(LEFT_ALONE) || block.querySelector(BLOCKS)) {
        continue;
      }
      splitAtBreaks(block).forEach(normaliseLine);
    }
    return page.body.innerHTML;
  }

  // Inside a table or a list, what is pasted stays as it came, as on the server.
  function insideTableOrList(editor) {
    const position = editor.model.document.selection.getFirstPosition();
    if (!position) {
      return false;
    }
    const block = position.parent;
    return Boolean(position.findAncestor("tableCell"))
      || (block && typeof block.hasAttribute === "function" && block.hasAttribute("listItemId"));
  }

  function attach(editor) {
    if (!editor || editor.casehubPasteNormalise || !editor.plugins.has("ClipboardPipeline")) {
      return;
    }
    editor.casehubPasteNormalise = true;
    const pipeline = editor.plugins.get("ClipboardPipeline");
    const processor = editor.data.htmlProcessor;
    pipeline.on("inputTransformation", (event, data) => {
      if (!data.content || insideTableOrList(editor)) {
        return;
      }
      const html = processor.toData(data.content);
      // One line pasted into a paragraph joins it; only whole lines are recognised.
      const page = new DOMParser().parseFromString(html, "text/html");
      const lines = page.body.querySelectorAll(BLOCKS + ", br").length;
      if (lines < 2) {
        return;
      }
      const normalised = normalise(html);
      if (normalised !== html) {
        data.content = processor.toView(normalised);
      }
    // After Paste from Office ("high"), before the pipeline inserts ("low").
    }, { priority: "normal" });
  }

  // The editor is created after the page loads by django-ckeditor-5's script;
  // it is found through its editable element, as zishu.js finds it.
  function find(textarea) {
    const editable = textarea.parentElement
      && textarea.parentElement.querySelector(".ck-editor__editable");
    const editor = (editable && editable.ckeditorInstance)
      || (window.editors && window.editors[textarea.id]);
    if (editor) {
      attach(editor);
    }
    return Boolean(editor);
  }

  function start() {
    for (const textarea of document.querySelectorAll("textarea.django_ckeditor_5")) {
      if (find(textarea)) {
        continue;
      }
      const observer = new MutationObserver(() => {
        if (find(textarea)) {
          observer.disconnect();
        }
      });
      observer.observe(textarea.parentElement || document.body, { childList: true, subtree: true });
    }
  }

  window.casehubPasteNormalise = normalise;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
