// Moved out of complaints/templates/complaints/submit.html: the Content-Security-Policy allows no inline script.
  // Progressive enhancement: without JavaScript the return fields simply stay visible and
  // the server decides what is required.
  (function () {
    var type = document.getElementById("id_type");
    var box = document.getElementById("return-fields");
    if (!type || !box) { return; }
    function sync() { box.hidden = type.value !== "return_exchange"; }
    type.addEventListener("change", sync);
    sync();
  })();
