// Bihuan's own script: small enhancements only; every page works without it.
(function () {
  "use strict";
  var here = location.pathname;
  document.querySelectorAll(".top nav a").forEach(function (a) {
    var target = a.getAttribute("href");
    if (target === here || (target !== "/" && here.indexOf(target) === 0)) a.setAttribute("aria-current", "page");
  });
  // After a failed submission, bring the list of problems into view.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.scrollIntoView({ block: "center" }); summary.focus(); }
  // Ask before revoking a token or deactivating a user.
  document.querySelectorAll("form.inline").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      var label = f.querySelector("button") ? f.querySelector("button").textContent : "";
      if (!window.confirm("确定要" + label + "吗？")) e.preventDefault();
    });
  });
})();
