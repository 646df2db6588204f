// Choosing another scale or language reloads the page with the answers kept: the questions,
// help texts and names change with them. Runs before htmx sees the change (capture phase).
document.addEventListener(
  "change",
  (event) => {
    if (event.target.matches("[data-reload]")) {
      event.stopPropagation();
      event.target.form.submit();
    }
  },
  true,
);
