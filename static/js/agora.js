/*
 * Progressive enhancement only: every page works without this file.
 *
 * Error summary (GOV.UK pattern): when a form comes back with errors, move the keyboard
 * focus to the summary so screen reader users hear it at once; a link in the summary
 * focuses its field and scrolls its label or legend into view, not just the input.
 */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var input = document.getElementById(link.getAttribute("href").slice(1));
      if (!input) {
        return;
      }
      event.preventDefault();
      var group = input.closest(".form-group") || input;
      group.scrollIntoView();
      input.focus({ preventScroll: true });
    });
  });
})();
