// Moved out of callbacks/templates/admin/callbacks/followup/call.html: the Content-Security-Policy allows no inline script.
(function () {
  // The questionnaire is asked only when the customer was reached.
  var block = document.getElementById("sd-answers");
  var radios = document.querySelectorAll('input[name="reached"]');
  if (!block || !radios.length) return;
  function sync() {
    var reached = document.querySelector('input[name="reached"]:checked');
    block.hidden = !(reached && reached.value === "yes");
  }
  Array.prototype.forEach.call(radios, function (r) { r.addEventListener("change", sync); });
  sync();
})();
