// Progressive helpers of the forms (the forms work without them):
// - the cm/inch toggle relabels the length fields and converts what was typed;
// - fields marked data-show-when="name=value" show only when that radio/select has that value.
const CM_PER_INCH = 2.54;

function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function setupUnitToggle(root = document) {
  const radios = root.querySelectorAll('.unit-toggle input[name="unit"]');
  let current = [...radios].find((r) => r.checked)?.value || 'cm';
  for (const radio of radios) {
    radio.addEventListener('change', () => {
      const next = radio.value;
      if (next === current) return;
      for (const input of root.querySelectorAll('input[data-length]')) {
        const value = parseFloat(input.value);
        if (Number.isFinite(value)) {
          input.value = next === 'in' ? round(value / CM_PER_INCH, 2) : round(value * CM_PER_INCH, 1);
        }
        if (input.placeholder) {
          const p = parseFloat(input.placeholder);
          if (Number.isFinite(p)) input.placeholder = next === 'in' ? round(p / CM_PER_INCH, 1) : round(p * CM_PER_INCH, 1);
        }
      }
      for (const label of root.querySelectorAll('.unit-label')) label.textContent = next;
      current = next;
      root.dispatchEvent(new CustomEvent('unitchange', { detail: { unit: next } }));
    });
  }
}

function currentValue(form, name) {
  const field = form.elements.namedItem(name);
  if (!field) return '';
  if (field instanceof RadioNodeList) return field.value;
  return field.value;
}

export function setupConditional(root = document) {
  const blocks = root.querySelectorAll('[data-show-when]');
  const update = () => {
    for (const block of blocks) {
      const [name, value] = block.dataset.showWhen.split('=');
      const form = block.closest('form');
      const shown = form && currentValue(form, name) === value;
      block.classList.toggle('hidden', !shown);
    }
  };
  root.addEventListener('change', update);
  update();
}

