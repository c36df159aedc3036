// Loaded in <head> without defer: the reader's text size and contrast are on
// <html> before the first paint, so a page never flashes in the wrong size.
// static/js/reading.js keeps the same names and changes them.
(() => {
  const root = document.documentElement;
  root.dataset.reading = "on";
  let size = null;
  let contrast = null;
  try {
    size = window.localStorage.getItem("casehub.reading.size");
    contrast = window.localStorage.getItem("casehub.reading.contrast");
  } catch (error) {
    // no storage: the standard look
  }
  if (size === "large" || size === "x-large") {
    root.dataset.textSize = size;
  }
  if (contrast === "high") {
    root.dataset.contrast = "high";
  }
})();
