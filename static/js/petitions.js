/*
 * Petition pages: the live count and the copy-link buttons. Progressive enhancement only:
 * without this file the count is the server's and the links are selected by hand.
 *
 * Every 10 seconds, while the page is visible, fetch count.json and update the number and
 * the progress bar. Screen readers are not told at every change: the polite live region
 * speaks the count at most once a minute, and at once when the person presses
 * "Update the count". The number's words ("signature"/"signatures") are the server's; the
 * number is changed only while it stays plural (2 or more) so the sentence stays right.
 */
(function () {
  "use strict";

  var REFRESH_MS = 10000;
  var ANNOUNCE_EVERY_MS = 60000;

  function setup(box) {
    var url = box.getAttribute("data-count-url");
    var lang = document.documentElement.lang || undefined;
    var numberFormat = new Intl.NumberFormat(lang);
    var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
    var number = box.querySelector("[data-count-value]");
    var progress = box.querySelector("[data-count-progress]");
    var announcer = box.querySelector("[data-count-announcer]");
    var button = box.querySelector("[data-count-refresh]");
    var shown = parseInt(box.getAttribute("data-count"), 10) || 0;
    var announced = shown;
    var lastAnnouncement = Date.now();

    function announce(count, force) {
      if (!announcer) {
        return;
      }
      var now = Date.now();
      if (!force && (count === announced || now - lastAnnouncement < ANNOUNCE_EVERY_MS)) {
        return;
      }
      var one = plurals && plurals.select(count) === "one";
      var template = box.getAttribute(one ? "data-announce-one" : "data-announce-other") || "%(count)s";
      announcer.textContent = template.replace("%(count)s", numberFormat.format(count));
      announced = count;
      lastAnnouncement = now;
    }

    function show(count) {
      if (number && count >= 2 && shown >= 2) {
        number.textContent = numberFormat.format(count);
      }
      if (progress) {
        progress.value = Math.min(count, progress.max);
        progress.textContent = numberFormat.format(count) + " / " + numberFormat.format(progress.max);
      }
      shown = count;
    }

    function refresh(force) {
      if (!force && document.visibilityState === "hidden") {
        return;
      }
      fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (!data || typeof data.signature_count !== "number") {
            return;
          }
          show(data.signature_count);
          announce(data.signature_count, force);
        })
        .catch(function () {
          /* offline or the server is busy: keep the last count shown */
        });
    }

    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        refresh(true);
      });
    }
    window.setInterval(function () {
      refresh(false);
    }, REFRESH_MS);
  }

  function setupCopy(button) {
    var input = document.getElementById(button.getAttribute("data-copy-button"));
    var status = button.parentNode.parentNode.querySelector("[data-copy-status]");
    if (!input || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied-message") || "";
        }
      });
    });
    input.addEventListener("focus", function () {
      input.select();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.fetch) {
      Array.prototype.forEach.call(document.querySelectorAll("[data-count-url]"), setup);
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy-button]"), setupCopy);
  });
})();
