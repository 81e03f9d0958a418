// Moved out of complaints/templates/admin/complaints/case/intake.html: the Content-Security-Policy allows no inline script.
(function (script) {
  // Return fields only for returns/exchanges; without JavaScript they simply stay visible.
  var type = document.getElementById("id_type");
  var box = document.querySelector("fieldset.sd-return-fields");
  if (type && box) {
    var sync = function () { box.hidden = type.value !== "return_exchange"; };
    type.addEventListener("change", sync);
    sync();
  }
  // The page asks for the first field when it shows no errors (data-focus on the tag).
  var focus = script && script.getAttribute("data-focus");
  var first = focus && document.getElementById(focus);
  if (first) first.focus();
})(document.currentScript);

// Who is calling? While the phone, member number or e-mail is typed, ask the server
// (debounced) and show the known customer and their open cases; pre-fill the name and, when
// empty, the type and category of their latest case.
(function () {
  var panel = document.getElementById("sd-known-customer");
  if (!panel || !window.fetch) return;
  var url = panel.getAttribute("data-lookup-url");
  var keys = { phone: "id_customer_phone", member_no: "id_customer_member_no", email: "id_customer_email" };
  var t = function (name) { return panel.getAttribute("data-t-" + name) || ""; };
  var byId = function (id) { return document.getElementById(id); };
  var timer = null, last = null, controller = null;

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    return node;
  }

  // A field is filled by us only while the user has not typed in it.
  function fill(id, value) {
    var field = byId(id);
    if (!field || !value) return;
    var ours = field.getAttribute("data-prefilled") === "1";
    if (field.value && !ours) return;
    field.value = value;
    field.setAttribute("data-prefilled", "1");
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function clearPrefill() {
    ["id_customer_name", "id_type", "id_category"].forEach(function (id) {
      var field = byId(id);
      if (field && field.getAttribute("data-prefilled") === "1") {
        field.value = "";
        field.removeAttribute("data-prefilled");
      }
    });
  }

  function render(data) {
    panel.textContent = "";
    panel.classList.remove("sd-known-new");
    if (!data.found) {
      clearPrefill();
      if (!data.searched) { panel.hidden = true; return; }
      panel.classList.add("sd-known-new");
      panel.appendChild(el("div", t("new")));
      panel.hidden = false;
      return;
    }
    var c = data.customer;
    var head = el("div");
    head.appendChild(el("strong", t("known") + "："));
    head.appendChild(el("a", c.name, { href: c.url, target: "_blank", rel: "noopener", "data-customer": c.id }));
    head.appendChild(document.createTextNode(
      " · " + c.tier + " · " + t("prefers") + " " + c.preferred_contact + (c.phone ? " · " + c.phone : "")
    ));
    panel.appendChild(head);
    if (data.open_cases.length) {
      panel.appendChild(el("div", t("open") + "（" + data.open_count + "）"));
      var list = el("ul");
      data.open_cases.forEach(function (oc) {
        var item = el("li");
        item.appendChild(el("a", oc.number, { href: oc.url, target: "_blank", rel: "noopener" }));
        item.appendChild(document.createTextNode(" " + oc.subject + " · " + oc.state + " · " + oc.received));
        list.appendChild(item);
      });
      panel.appendChild(list);
      if (data.open_more) panel.appendChild(el("div", data.open_more + " " + t("more"), { "class": "sd-known-note" }));
    } else {
      panel.appendChild(el("div", t("no-open"), { "class": "sd-known-note" }));
    }
    panel.appendChild(el("div", t("repeat"), { "class": "sd-known-note" }));
    panel.hidden = false;
    fill("id_customer_name", c.name);
    fill("id_type", data.last_type);
    fill("id_category", data.last_category);
  }

  function ask() {
    var params = new URLSearchParams();
    Object.keys(keys).forEach(function (k) {
      var field = byId(keys[k]);
      params.set(k, field ? field.value.trim() : "");
    });
    var query = params.toString();
    if (query === last) return;
    last = query;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    fetch(url + "?" + query, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () {});
  }

  Object.keys(keys).forEach(function (k) {
    var field = byId(keys[k]);
    if (!field) return;
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 250);
    });
  });
  // Typing in a pre-filled field makes it the user's own.
  ["id_customer_name", "id_type", "id_category"].forEach(function (id) {
    var field = byId(id);
    if (!field) return;
    var own = function (event) { if (event.isTrusted) field.removeAttribute("data-prefilled"); };
    field.addEventListener("input", own);
    field.addEventListener("change", own);
  });
  // A page shown again with errors: recognise what was already typed.
  if (Object.keys(keys).some(function (k) { var f = byId(keys[k]); return f && f.value; })) ask();
})();
