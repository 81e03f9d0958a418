// Insert a standard reply (标准话术) into a progress update, solution, result or note in one
// click. A static file: the Content-Security-Policy allows no inline script.
(function () {
  // Each picker sits right above its text box (without JavaScript there is nothing to pick).
  document.querySelectorAll(".sd-canned[data-for]").forEach(function (box) {
    var target = document.getElementById(box.getAttribute("data-for"));
    if (target && target.parentNode) target.parentNode.insertBefore(box, target);
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-sd-canned-target]")) return;
    var option = select.options[select.selectedIndex];
    var box = document.getElementById(select.getAttribute("data-sd-canned-target"));
    if (!option || !option.dataset.body || !box) return;
    var start = typeof box.selectionStart === "number" ? box.selectionStart : box.value.length;
    var end = typeof box.selectionEnd === "number" ? box.selectionEnd : start;
    box.value = box.value.slice(0, start) + option.dataset.body + box.value.slice(end);
    box.focus();
    select.selectedIndex = 0;
  });
})();
