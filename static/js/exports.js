// The export page follows its job while the document is built: progress from
// the status address, and the finished page (with its download) once done.
// Without this script the page refreshes itself and has a link to do so.
(() => {
  const panel = document.querySelector("[data-export-status-url]");
  if (!panel) {
    return;
  }
  const bar = panel.querySelector("[data-export-bar]");
  const text = panel.querySelector("[data-export-progress]");
  const status = panel.querySelector("[data-export-status]");
  const notice = panel.querySelector("[data-export-notice]");
  const stalled = panel.dataset.exportStalled === "true";
  let delay = 1000;

  const show = (job) => {
    status.textContent = job.status_display;
    text.textContent = job.progress_text;
    notice.textContent = job.notice;
    notice.hidden = !job.notice;
    if (job.status === "running" && job.total > 0) {
      bar.max = job.total;
      bar.value = job.done;
      bar.textContent = `${job.percent}%`;
    }
  };

  const poll = async () => {
    try {
      const response = await fetch(panel.dataset.exportStatusUrl, {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (response.ok) {
        const job = await response.json();
        // A stalled job's page offers to start it again; one that moves does not.
        if (job.finished || job.stalled !== stalled) {
          window.location.reload();
          return;
        }
        show(job);
        delay = 1000;
      } else {
        delay = Math.min(delay * 2, 15000);
      }
    } catch {
      delay = Math.min(delay * 2, 15000);
    }
    window.setTimeout(poll, delay);
  };

  window.setTimeout(poll, delay);
})();
