// A table too wide for the screen scrolls inside its own box. This marks such boxes so
// that they show a cue ("Scroll sideways for more") and can be scrolled from the keyboard.
(function () {
  "use strict";

  function cueFor(wrap) {
    var cue = wrap.previousElementSibling;
    if (cue && cue.classList.contains("scroll-cue")) {
      return cue;
    }
    cue = document.createElement("p");
    cue.className = "scroll-cue";
    cue.setAttribute("aria-hidden", "true");
    cue.textContent = "Scroll sideways for more columns →";
    wrap.parentNode.insertBefore(cue, wrap);
    return cue;
  }

  function label(wrap) {
    var caption = wrap.querySelector("caption");
    var section = wrap.closest("section");
    var heading = section && section.querySelector("h2, h3");
    return (caption || heading || {}).textContent || "Table";
  }

  function mark(wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    wrap.classList.toggle("is-scrollable", scrolls);
    cueFor(wrap).hidden = !scrolls;
    if (scrolls) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", label(wrap).trim() + " (scrolls sideways)");
    } else {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-label");
    }
  }

  function markAll() {
    document.querySelectorAll(".table-wrap").forEach(mark);
  }

  var pending = null;
  window.addEventListener("resize", function () {
    window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(markAll);
  });
  markAll();
}());
