// Bihuan's own script: small enhancements only; every page works without it.
(function () {
  "use strict";
  var here = location.pathname;
  var english = document.documentElement.lang.indexOf("en") === 0;
  function t(zh, en) { return english ? en : zh; }
  // Mark the current section in the header.
  document.querySelectorAll(".top [data-nav]").forEach(function (a) {
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
      if (!window.confirm(t("确定要" + label + "吗？", label + "?"))) e.preventDefault();
    });
  });
  // Toasts: short messages that do not move the page; errors carry the
  // request id so that support can find the request in the log.
  window.bihuanToast = function (text, kind, requestId) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast " + (kind || "");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = text;
    if (requestId) {
      var code = document.createElement("code");
      code.textContent = " " + t("请求编号", "Request id") + ": " + requestId;
      el.appendChild(document.createElement("br"));
      el.appendChild(code);
    }
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, kind === "error" ? 12000 : 5000);
  };
})();
