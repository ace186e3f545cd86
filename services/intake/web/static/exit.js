"use strict";
// Progressive: without JavaScript the quick exit is a plain link. With it, the exit replaces this page
// in the tab's history, so Back does not return here.
(function () {
  const link = document.getElementById("quick-exit");
  if (!link) return;
  link.addEventListener("click", (event) => { event.preventDefault(); window.location.replace(link.dataset.exit); });
})();
