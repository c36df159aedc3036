/* The embedded list's side of /static/js/embed.js: tells the embedding page
   how tall the list is, so its frame shows it without a scroll bar.

   It answers only a page that said hello from one of the origins allowed to
   embed the showcase (listed by the page, as the admin set them) or from our
   own, and only that page's origin can receive the answer: never "*". */
(function () {
  "use strict";
  if (window.parent === window) {
    return;
  }
  var allowed = (document.body.getAttribute("data-embed-origins") || "")
    .split(" ")
    .filter(Boolean);
  var own = window.location.origin;
  var parentOrigin = null;

  function height() {
    return Math.ceil(document.body.getBoundingClientRect().height);
  }

  function send() {
    if (parentOrigin === null) {
      return;
    }
    window.parent.postMessage(
      { type: "casehub-embed:height", height: height(), title: document.title },
      parentOrigin
    );
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) {
      return;
    }
    if (!event.data || event.data.type !== "casehub-embed:hello") {
      return;
    }
    if (event.origin !== own && allowed.indexOf(event.origin) === -1) {
      return;
    }
    parentOrigin = event.origin;
    send();
  });

  if (window.ResizeObserver) {
    new ResizeObserver(send).observe(document.body);
  }
  window.addEventListener("load", send);
})();
