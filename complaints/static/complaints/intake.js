// Moved out of complaints/templates/admin/complaints/case/intake.html: the Content-Security-Policy allows no inline script.
(function (script) {
  // Return fields only for returns/exchanges; without JavaScript they simply stay visible.
  var type = document.getElementById("id_type");
  var box = document.querySelector("fieldset.sd-return-fields");
  if (!type || !box) return;
  function sync() { box.hidden = type.value !== "return_exchange"; }
  type.addEventListener("change", sync);
  sync();
  // The page asks for the first field when it shows no errors (data-focus on the tag).
  var focus = script && script.getAttribute("data-focus");
  var first = focus && document.getElementById(focus);
  if (first) first.focus();
})(document.currentScript);
