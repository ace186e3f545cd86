// Live clocks: each <time class="clock" datetime="..."> shows the time left to its deadline.
// Served from the workbench itself (CSP script-src 'self'); it reads and stores nothing else.
"use strict";
(function () {
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.clock").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("datetime")) - now) / 1000);
      var late = left < 0, s = Math.abs(left);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      var text = (h ? h + " h " : "") + pad(m) + " min " + pad(sec) + " s";
      el.textContent = text + " " + (late ? el.dataset.overdue : el.dataset.left);
      el.classList.toggle("overdue", late);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
