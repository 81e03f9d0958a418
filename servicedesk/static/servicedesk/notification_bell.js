// The notification bell's dropdown (admin/_notification_bell.html) is a <details> element and
// works without script; this only closes it on a click elsewhere or on Escape. A static file:
// the Content-Security-Policy allows no inline script.
(function () {
  var bell = document.getElementById("sd-bell");
  if (!bell) {
    return;
  }
  document.addEventListener("click", function (event) {
    if (bell.open && !bell.contains(event.target)) {
      bell.open = false;
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bell.open) {
      bell.open = false;
      bell.querySelector("summary").focus();
    }
  });
})();
