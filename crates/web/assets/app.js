// Bihuan's own script: small enhancements only; every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var english = document.documentElement.lang.indexOf("en") === 0;
  function t(zh, en) { return english ? en : zh; }
  // On a desk the filter bar is always open; a phone keeps it folded until asked.
  if (window.matchMedia && window.matchMedia("(min-width: 720px)").matches) {
    document.querySelectorAll("details[data-filter-box]").forEach(function (d) { d.open = true; });
  }
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
  // An error stays until it is closed; other messages leave after a few
  // seconds, but not while the pointer or the focus is on them.
  window.bihuanToast = function (text, kind, requestId) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast " + (kind || "");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    var p = document.createElement("span");
    p.textContent = text;
    el.appendChild(p);
    if (requestId) {
      var code = document.createElement("code");
      code.textContent = " " + t("请求编号", "Request id") + ": " + requestId;
      el.appendChild(document.createElement("br"));
      el.appendChild(code);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", t("关闭", "Close"));
    close.textContent = "×";
    close.addEventListener("click", function () { el.remove(); });
    el.appendChild(close);
    box.appendChild(el);
    if (kind === "error") return;
    var held = false;
    el.addEventListener("mouseenter", function () { held = true; });
    el.addEventListener("mouseleave", function () { held = false; });
    el.addEventListener("focusin", function () { held = true; });
    el.addEventListener("focusout", function () { held = false; });
    (function later() { setTimeout(function () { if (held) later(); else el.remove(); }, 6000); })();
  };
})();

// The hazard report form on a phone in a workshop: the draft's text is kept
// on the device as it is typed (localStorage); a report sent while the
// network is down waits, photos and all, in an outbox on the device
// (IndexedDB) and is sent when the network returns, from whichever page is
// open. Each report carries its submission key, so sending it twice
// registers it once.
(function () {
  "use strict";
  var english = document.documentElement.lang.indexOf("en") === 0;
  function t(zh, en) { return english ? en : zh; }
  function toast(text, kind, rid) { if (window.bihuanToast) window.bihuanToast(text, kind, rid); }
  var DB = "bihuan", STORE = "outbox";
  // Drafts and queued reports belong to the user who made them: another
  // user logging in on the same phone neither sees nor sends them.
  var me = document.body.getAttribute("data-user") || "";

  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(store, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode), s = t.objectStore(store), out;
        var r = work(s);
        if (r) r.onsuccess = function () { out = r.result; };
        t.oncomplete = function () { resolve(out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx(STORE, "readonly", function (s) { return s.getAll(); }); }
  function put(entry) { return tx(STORE, "readwrite", function (s) { return s.put(entry); }); }
  function remove(id) { return tx(STORE, "readwrite", function (s) { return s.delete(id); }); }

  function newKey() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function currentCsrf() {
    var i = document.querySelector("input[name=csrf]");
    return i ? i.value : "";
  }
  function isHazardPage(url) { return /\/hazards\/[0-9a-f-]{36}/.test(url); }

  // Sends one queued report. Resolves "sent", "login", "failed" (refused
  // by the application), "later" (the server or a proxy failed) or rejects
  // on a network error.
  function send(entry) {
    var fd = new FormData();
    entry.fields.forEach(function (kv) { fd.append(kv[0], kv[0] === "csrf" ? (currentCsrf() || kv[1]) : kv[1]); });
    entry.files.forEach(function (kf) { fd.append(kf[0], kf[1], kf[1].name); });
    return fetch(entry.url, { method: "POST", body: fd, credentials: "same-origin" }).then(function (r) {
      if (isHazardPage(r.url)) { entry.sentTo = r.url; return "sent"; }
      if (r.url.indexOf("/login") >= 0) return "login";
      if (r.status >= 500) return "later";
      entry.error = r.status + "";
      entry.requestId = r.headers.get("x-request-id") || "";
      return "failed";
    });
  }

  // One sender per window, even after a reply page replaced the document.
  function flush() {
    if (window.bihuanFlushing || !me || !navigator.onLine || !currentCsrf()) return Promise.resolve();
    window.bihuanFlushing = true;
    return all().then(function (entries) {
      var chain = Promise.resolve();
      entries.filter(function (e) { return !e.error && e.user === me; }).forEach(function (e) {
        chain = chain.then(function () {
          return send(e).then(function (outcome) {
            if (outcome === "sent") {
              toast(t("离线登记的隐患已发送：", "Report sent from the outbox: ") + e.title, "ok");
              return remove(e.id);
            }
            if (outcome === "failed") {
              toast(t("待发送的隐患未能登记，请打开登记页查看：", "A report in the outbox was refused; open the report page: ") + e.title, "error", e.requestId);
              return put(e);
            }
            return undefined;
          });
        });
      });
      return chain;
    }).catch(function () { /* still offline: try again later */ }).then(function () {
      window.bihuanFlushing = false;
      showOutbox();
    });
  }

  var box = document.querySelector("[data-outbox]");
  function showOutbox() {
    if (!box) return Promise.resolve();
    return all().then(function (entries) {
      entries = entries.filter(function (e) { return e.user === me; });
      box.hidden = entries.length === 0;
      var list = box.querySelector("ul");
      var count = box.querySelector("[data-outbox-count]");
      if (count) count.textContent = entries.length;
      list.textContent = "";
      entries.forEach(function (e) {
        var li = document.createElement("li");
        var name = document.createElement("strong");
        name.textContent = e.title;
        li.appendChild(name);
        var meta = document.createElement("span");
        meta.className = "muted small";
        meta.textContent = " " + new Date(e.savedAt).toLocaleString(english ? "en-US" : "zh-CN") + " · " +
          (e.error ? t("被拒绝（" + e.error + "）", "refused (" + e.error + ")") + (e.requestId ? " · " + t("请求编号", "Request id") + " " + e.requestId : "") : t("等待网络", "waiting for the network"));
        li.appendChild(meta);
        var retry = document.createElement("button");
        retry.type = "button"; retry.className = "link"; retry.textContent = t("重新发送", "Send again");
        retry.addEventListener("click", function () { delete e.error; put(e).then(flush); });
        var drop = document.createElement("button");
        drop.type = "button"; drop.className = "link"; drop.textContent = t("删除", "Delete");
        drop.addEventListener("click", function () {
          if (window.confirm(t("删除这条未发送的登记？", "Delete this unsent report?"))) remove(e.id).then(showOutbox);
        });
        li.appendChild(document.createTextNode(" "));
        li.appendChild(retry);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(drop);
        list.appendChild(li);
      });
    }).catch(function () { box.hidden = true; });
  }

  window.addEventListener("online", flush);
  flush();
  // A phone may not say when the network is back: try again every half minute.
  if (!window.bihuanRetry) window.bihuanRetry = setInterval(function () { if (window.bihuanFlushNow) window.bihuanFlushNow(); }, 30000);
  window.bihuanFlushNow = flush;

  var form = document.querySelector("form[data-draft]");
  if (!form) return;
  var draftKey = "bihuan:draft:" + me + ":" + form.getAttribute("data-draft");
  var skip = { csrf: true };
  function textFields() {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || skip[el.name] || el.type === "file" || el.type === "submit" || el.type === "button") return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      out.push([el.name, el.value]);
    });
    return out;
  }
  function fileFields() {
    var out = [];
    form.querySelectorAll("input[type=file]").forEach(function (el) {
      Array.prototype.forEach.call(el.files || [], function (f) { out.push([el.name, f]); });
    });
    return out;
  }
  function saveDraft() {
    try { localStorage.setItem(draftKey, JSON.stringify({ savedAt: Date.now(), fields: textFields() })); } catch (e) { /* full or private mode */ }
  }
  function clearDraft() {
    try { localStorage.removeItem(draftKey); } catch (e) { /* ignore */ }
  }
  // A new report starts without the last one's position.
  function clearPosition() {
    ["latitude", "longitude"].forEach(function (n) { var i = form.querySelector("[name=" + n + "]"); if (i) i.value = ""; });
    var st = form.querySelector("[data-geo-status]");
    if (st) st.textContent = "";
  }
  var notice = form.querySelector("[data-draft-notice]");
  // Restore a draft into an untouched form (not over a form the server sent back with errors).
  var saved = null;
  try { saved = JSON.parse(localStorage.getItem(draftKey) || "null"); } catch (e) { saved = null; }
  if (saved && !form.querySelector(".error-summary")) {
    var hasText = saved.fields.some(function (kv) { return kv[0] !== "submission_key" && kv[1] && kv[0] !== "level" && kv[0] !== "manage_type"; });
    if (hasText) {
      saved.fields.forEach(function (kv) {
        var els = form.querySelectorAll("[name='" + kv[0] + "']");
        els.forEach(function (el) {
          if (el.type === "radio" || el.type === "checkbox") el.checked = el.value === kv[1];
          else el.value = kv[1];
        });
      });
      if (notice) {
        notice.hidden = false;
        notice.querySelector("[data-draft-time]").textContent = new Date(saved.savedAt).toLocaleString(english ? "en-US" : "zh-CN");
      }
    }
  }
  if (notice) notice.querySelector("button").addEventListener("click", function () {
    clearDraft();
    form.reset();
    clearPosition();
    var k = form.querySelector("[name=submission_key]");
    if (k) k.value = newKey();
    notice.hidden = true;
  });
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);

  // The position, when the device shares it (only offered on https or localhost).
  var geo = form.querySelector("[data-geo]");
  if (geo && navigator.geolocation && window.isSecureContext) {
    geo.hidden = false;
    var status = geo.querySelector("[data-geo-status]");
    geo.querySelector("[data-geo-button]").addEventListener("click", function () {
      status.textContent = t("正在定位…", "Locating…");
      navigator.geolocation.getCurrentPosition(function (p) {
        form.querySelector("[name=latitude]").value = p.coords.latitude.toFixed(7);
        form.querySelector("[name=longitude]").value = p.coords.longitude.toFixed(7);
        status.textContent = t("已记录位置", "Position recorded") + " " + p.coords.latitude.toFixed(5) + ", " + p.coords.longitude.toFixed(5) + " (±" + Math.round(p.coords.accuracy) + " m)";
        saveDraft();
      }, function () {
        status.textContent = t("未能定位（未授权或信号弱），可在“具体位置”中说明", "No position (not allowed or weak signal); describe the place under Location");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  function queue(reason) {
    var title = (form.querySelector("[name=name]") || {}).value || t("（未命名）", "(untitled)");
    var entry = { url: form.getAttribute("action"), user: me, fields: textFields().concat([["csrf", currentCsrf()]]), files: fileFields(), title: title, savedAt: Date.now() };
    return put(entry).then(function () {
      clearDraft();
      if (notice) notice.hidden = true;
      form.reset();
      clearPosition();
      var k = form.querySelector("[name=submission_key]");
      if (k) k.value = newKey();
      toast(reason === "offline"
        ? t("网络不可用：这条登记已保存在本机，联网后自动发送。", "No network: this report is kept on this device and will be sent when the network returns.")
        : t("暂时无法连接服务器：这条登记已保存在本机，稍后自动发送。", "The server cannot be reached: this report is kept on this device and will be sent automatically."), "ok");
      return showOutbox();
    });
  }

  form.addEventListener("submit", function (e) {
    if (!window.indexedDB || !window.fetch) return; // the plain form post
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    var done = function () { if (button) button.disabled = false; };
    if (!navigator.onLine) { queue("offline").catch(function () { toast(t("无法保存到本机", "Could not keep the report on this device"), "error"); }).then(done); return; }
    fetch(form.getAttribute("action"), { method: "POST", body: new FormData(form), credentials: "same-origin" }).then(function (r) {
      if (isHazardPage(r.url)) { clearDraft(); location.href = r.url; return undefined; }
      // The server or a proxy in front of it failed: keep the report and retry.
      if (r.status >= 500) return queue("unreachable");
      // The application sent the form back (what to correct), or a login page: show it as sent.
      return r.text().then(function (html) { document.open(); document.write(html); document.close(); });
    }, function () {
      return queue(navigator.onLine ? "unreachable" : "offline");
    }).catch(function () { toast(t("提交失败，请稍后重试", "Sending failed; try again later"), "error"); }).then(done);
  });
  showOutbox();
})();

// Lists: the columns a user hides stay hidden on this device; forms show
// that they are being sent and cannot be sent twice by a double tap.
(function () {
  "use strict";
  document.querySelectorAll("details[data-columns]").forEach(function (box) {
    var key = "bihuan:columns:" + box.getAttribute("data-columns");
    var table = document.querySelector(".table-wrap table");
    if (!table) return;
    var hidden = [];
    try { hidden = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { hidden = []; }
    function apply() {
      box.querySelectorAll("input[type=checkbox]").forEach(function (c) {
        c.checked = hidden.indexOf(c.value) < 0;
        table.classList.toggle("hide-" + c.value, !c.checked);
      });
    }
    box.hidden = false;
    apply();
    box.addEventListener("change", function () {
      hidden = [];
      box.querySelectorAll("input[type=checkbox]").forEach(function (c) { if (!c.checked) hidden.push(c.value); });
      try { localStorage.setItem(key, JSON.stringify(hidden)); } catch (e) { /* private mode */ }
      apply();
    });
  });
  document.querySelectorAll("form[method=post]:not([data-draft])").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (e.defaultPrevented) return;
      var b = f.querySelector("button[type=submit], button:not([type])");
      if (!b) return;
      setTimeout(function () { b.disabled = true; b.setAttribute("aria-busy", "true"); b.classList.add("busy"); }, 0);
    });
  });
  // Back to a page kept in memory: its buttons work again.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) document.querySelectorAll("button.busy").forEach(function (b) { b.disabled = false; b.removeAttribute("aria-busy"); b.classList.remove("busy"); });
  });
})();

// Inline messages: a field the browser finds wrong (missing, too long, not
// a date) gets its message right under it, tied to it for screen readers;
// the message goes as soon as the field is right. The server checks again
// and lists what it finds at the top of the form.
(function () {
  "use strict";
  var english = document.documentElement.lang.indexOf("en") === 0;
  function t(zh, en) { return english ? en : zh; }
  function message(el) {
    var v = el.validity;
    if (v.valueMissing) return el.type === "file" ? t("请选择文件", "Choose a file") : (el.type === "radio" ? t("请选择一项", "Choose one") : t("此项必填", "This field is required"));
    if (v.tooLong) return t("内容过长", "Too long");
    if (v.rangeUnderflow) return t("不能早于 ", "Not before ") + el.min;
    if (v.rangeOverflow) return t("不能晚于 ", "Not after ") + el.max;
    if (v.badInput || v.typeMismatch || v.patternMismatch) return t("格式不正确", "Not in the right form");
    return el.validationMessage;
  }
  function holder(el) {
    var id = (el.id || el.name) + "-inline-error";
    var p = document.getElementById(id);
    if (!p) {
      p = document.createElement("p");
      p.id = id;
      p.className = "field-error";
      var after = el.type === "radio" ? el.closest(".checks") || el : el;
      after.insertAdjacentElement("afterend", p);
    }
    return p;
  }
  function describe(el, on) {
    var ids = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    var id = (el.id || el.name) + "-inline-error";
    ids = ids.filter(function (x) { return x !== id; });
    if (on) ids.push(id);
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" ")); else el.removeAttribute("aria-describedby");
  }
  document.querySelectorAll("form").forEach(function (form) {
    var first = true;
    form.addEventListener("invalid", function (e) {
      var el = e.target;
      e.preventDefault();
      var p = holder(el);
      p.textContent = message(el);
      el.setAttribute("aria-invalid", "true");
      describe(el, true);
      if (first) { el.focus(); first = false; setTimeout(function () { first = true; }, 0); }
    }, true);
    form.addEventListener("input", function (e) {
      var el = e.target;
      if (el.getAttribute("aria-invalid") === "true" && el.validity && el.validity.valid) {
        el.removeAttribute("aria-invalid");
        describe(el, false);
        var p = document.getElementById((el.id || el.name) + "-inline-error");
        if (p) p.remove();
      }
    });
  });
})();
