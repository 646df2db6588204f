// Small helps on the incident pages; every page works without them.
//
// - The TLP:RED recipients are asked only when TLP:RED is chosen (without JavaScript they are always shown).
// - The queue's "select all" box ticks every incident on the page for a bulk action.
(() => {
  const syncRecipients = (form) => {
    const box = form.querySelector("[data-red-recipients]");
    if (!box) return;
    const chosen = form.querySelector('input[name$="tlp"]:checked');
    box.hidden = !chosen || chosen.value !== "TLP:RED";
  };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form").forEach(syncRecipients);
    const all = document.querySelector("[data-select-all]");
    if (all) {
      all.hidden = false;
      all.addEventListener("change", () => {
        document.querySelectorAll('input[type="checkbox"][name="incident"]').forEach((box) => {
          box.checked = all.checked;
        });
      });
    }
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches('input[name$="tlp"]')) syncRecipients(event.target.form);
  });
})();
