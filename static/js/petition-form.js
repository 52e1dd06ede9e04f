/*
 * Live character counts on the petition form (progressive enhancement only).
 *
 * Without this file the limits are stated in each field's hint, the browser's maxlength
 * stops the typing, and the server enforces them. With it, each field that has a
 * data-maxlength attribute gets a visible count under it and a polite live region that
 * speaks the count once typing pauses (so a screen reader is not interrupted at every key).
 * The maxlength attribute is taken off, as in the GOV.UK character count: people can then
 * paste a long text and shorten it, instead of losing its end without noticing.
 * The messages come translated from the server, in data-count-* attributes.
 */
(function () {
  "use strict";

  var ANNOUNCE_DELAY_MS = 1000;

  function format(template, count) {
    var lang = document.documentElement.lang || undefined;
    return (template || "").replace("%(count)s", count.toLocaleString(lang));
  }

  function message(field, remaining) {
    var data = field.dataset;
    if (remaining === 1) {
      return data.countOneRemaining;
    }
    if (remaining >= 0) {
      return format(data.countRemaining, remaining);
    }
    if (remaining === -1) {
      return data.countOneOver;
    }
    return format(data.countOver, -remaining);
  }

  function enhance(field, index) {
    var max = parseInt(field.dataset.maxlength, 10);
    if (!max) {
      return;
    }
    field.removeAttribute("maxlength");

    var visible = document.createElement("p");
    visible.className = "hint";
    visible.id = (field.id || "field-" + index) + "_count";
    visible.setAttribute("aria-hidden", "true");

    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");

    field.insertAdjacentElement("afterend", visible);
    visible.insertAdjacentElement("afterend", live);

    var timer = null;

    function update(announce) {
      // The browser's value has "\n" line breaks, counted once, as the server counts them.
      var remaining = max - field.value.length;
      var text = message(field, remaining);
      visible.textContent = text;
      visible.className = remaining < 0 ? "field-error" : "hint";
      if (announce) {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          live.textContent = text;
        }, ANNOUNCE_DELAY_MS);
      }
    }

    field.addEventListener("input", function () {
      update(true);
    });
    update(false);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var fields = document.querySelectorAll("[data-maxlength]");
    Array.prototype.forEach.call(fields, enhance);
  });
})();
