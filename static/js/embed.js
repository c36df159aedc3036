/* The latest issues of the showcase on another site's page.

   <script src="https://casehub.example.org/static/js/embed.js"
           data-series="dangjian" data-limit="5" async></script>

   Puts a frame of /embed/issues/ where the script tag stands, and sets the
   frame's height from the list's own measure. Only a message from our origin,
   sent by that very frame, is read. The site must be one of the embedding
   origins set in the showcase's admin, or the browser refuses the frame. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src || script.getAttribute("data-casehub-embed")) {
    return;
  }
  script.setAttribute("data-casehub-embed", "started");
  var origin = new URL(script.src, document.baseURI).origin;
  var address = new URL("/embed/issues/", origin);
  var series = script.getAttribute("data-series");
  var limit = script.getAttribute("data-limit");
  if (series) {
    address.searchParams.set("series", series);
  }
  if (limit) {
    address.searchParams.set("limit", limit);
  }

  var frame = document.createElement("iframe");
  frame.src = address.href;
  frame.title = script.getAttribute("data-title") || "";
  frame.className = "casehub-embed";
  // Scripts for the height, and links that open the showcase in a new tab;
  // the frame may not move this page anywhere.
  frame.setAttribute(
    "sandbox",
    "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox"
  );
  frame.style.display = "block";
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.height = "320px";
  script.parentNode.insertBefore(frame, script.nextSibling);

  frame.addEventListener("load", function () {
    frame.contentWindow.postMessage({ type: "casehub-embed:hello" }, origin);
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) {
      return;
    }
    var data = event.data;
    if (!data || data.type !== "casehub-embed:height") {
      return;
    }
    var height = Number(data.height);
    if (!isFinite(height)) {
      return;
    }
    frame.style.height = Math.min(Math.max(Math.round(height), 40), 4000) + "px";
    if (!frame.title && typeof data.title === "string") {
      frame.title = data.title.slice(0, 200);
    }
  });
})();
