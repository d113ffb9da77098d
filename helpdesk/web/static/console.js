// Progressive enhancement only: every page works without this file.
// "/" puts the cursor in the page's search field, as in many web apps staff know.
document.addEventListener("keydown", function (event) {
  var active = document.activeElement;
  var typing = active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    var search = document.querySelector("input[type=search]");
    if (search) {
      event.preventDefault();
      search.focus();
    }
  }
});
