// Enhancements of the check and plan forms (unit toggle, conditional fields, busy button).
import { setupConditional, setupUnitToggle } from './forms.js';

setupUnitToggle();
setupConditional();
for (const form of document.querySelectorAll('form[method="post"]')) {
  form.addEventListener('submit', () => {
    const button = form.querySelector('button[type="submit"]');
    if (button && form.id !== 'pdf-form') {
      button.disabled = true;
      button.textContent = 'Working…';
    }
  });
}
window.addEventListener('pageshow', () => {
  for (const button of document.querySelectorAll('form button[type="submit"]:disabled')) button.disabled = false;
});
