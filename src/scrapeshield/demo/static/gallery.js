// Marks the gallery as interactive; a real site would lazy-load and track views here.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  var count = document.querySelectorAll(".grid a").length;
  var note = document.getElementById("count");
  if (note) { note.textContent = count + " artworks on this page"; }
});
