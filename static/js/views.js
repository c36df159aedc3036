// 浏览量 on a case page the front server answered from the published copy:
// the page holds no count, so ask the site for it. The same request counts
// this reader, once an hour, as reading the page through Django would have.
(() => {
  const place = document.querySelector("[data-views-beacon]");
  if (!place) {
    return;
  }
  fetch(place.dataset.viewsBeacon, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
    .then((response) => (response.ok ? response.json() : null))
    .then((answer) => {
      if (answer && Number.isInteger(answer.views)) {
        place.textContent = String(answer.views);
      }
    })
    .catch(() => {
      // offline or refused: the count stays unknown on this page
    });
})();
