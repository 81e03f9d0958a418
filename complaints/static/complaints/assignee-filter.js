// Moved out of complaints/templates/admin/complaints/case/_assignee_filter.html: the Content-Security-Policy allows no inline script.
(function () {
  // Offer only the members of the chosen department (the service checks it anyway).
  var dept = document.getElementById("id_department");
  var person = document.getElementById("id_assignee");
  if (!dept || !person) return;
  function sync() {
    var chosen = dept.value;
    Array.prototype.forEach.call(person.options, function (option) {
      var depts = option.getAttribute("data-departments");
      var fits = !chosen || !depts || depts === "*" || depts.split(" ").indexOf(chosen) >= 0;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) person.value = "";
    });
  }
  dept.addEventListener("change", sync);
  sync();
})();
