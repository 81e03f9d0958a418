// Insert a standard reply (标准话术) into the reply box. A static file: no inline scripts (CSP).
document.addEventListener("change", function (event) {
  var select = event.target;
  if (!select.matches || !select.matches("select[data-canned-target]")) return;
  var option = select.options[select.selectedIndex];
  var box = document.getElementById(select.getAttribute("data-canned-target"));
  if (!option || !option.dataset.body || !box) return;
  var start = box.selectionStart || box.value.length;
  box.value = box.value.slice(0, start) + option.dataset.body + box.value.slice(start);
  box.focus();
  select.selectedIndex = 0;
});
