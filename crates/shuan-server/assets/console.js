// shuan 管理控制台: the little script the pages use (loaded from this server only; the
// Content-Security-Policy forbids inline script). Everything works without it except the
// conveniences below.
"use strict";
(function () {
  // A form (or the button that sends it) marked data-confirm asks before it is sent (删除, 强退, 重置).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    // A button may ask its own question (撤销 beside 暂停 in one form).
    var question =
      (ev.submitter && ev.submitter.getAttribute("data-confirm")) ||
      form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      ev.preventDefault();
    }
  });

  // Toolbar 修改/删除 act on the row chosen with the row's radio button.
  function chosenRow() {
    var r = document.querySelector("input[name=row]:checked");
    return r ? r.closest("tr") : null;
  }
  function syncToolbar() {
    var row = chosenRow();
    document.querySelectorAll("[data-row-action]").forEach(function (b) {
      b.disabled = !row;
    });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.name === "row") syncToolbar();
    // 自定数据 shows the department list of a scope field.
    if (ev.target.matches("select[data-scope]")) showChosen(ev.target);
  });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-row-action]");
    if (!b) return;
    var row = chosenRow();
    if (!row) return;
    var target = row.querySelector("[data-action=" + b.getAttribute("data-row-action") + "]");
    if (!target) return;
    if (target.tagName === "A") {
      window.location.href = target.getAttribute("href");
    } else {
      target.click();
    }
  });
  function showChosen(select) {
    var box = document.getElementById(select.getAttribute("data-scope"));
    if (box) box.classList.toggle("hidden", select.value !== "chosen");
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncToolbar();
    document.querySelectorAll("select[data-scope]").forEach(showChosen);
    // The session ends after this many idle seconds on the server; return to the sign-in
    // page then instead of failing on the next click.
    // A page showing unfinished work (a running job) reloads itself until it ends.
    var refresh = parseInt(document.body.getAttribute("data-refresh-secs") || "0", 10);
    if (refresh > 0) {
      window.setTimeout(function () {
        window.location.reload();
      }, refresh * 1000);
    }
    var idle = parseInt(document.body.getAttribute("data-idle-secs") || "0", 10);
    if (idle > 0) {
      window.setTimeout(function () {
        window.location.href = "/login?expired=1";
      }, idle * 1000 + 2000);
    }
  });
})();
