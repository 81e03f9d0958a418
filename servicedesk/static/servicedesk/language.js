// The admin's language menu: choosing a language submits its form (no inline handler: the
// Content-Security-Policy allows no inline script).
(function () {
  var select = document.getElementById("sd-language");
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }
})();
