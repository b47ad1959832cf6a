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


// --- the try-on form as a protocol (the predict contract), shared by the 3D and photo parts ---

/** The form's length unit, 'cm' or 'in'. */
export function formUnit(form) {
  return form?.elements.namedItem('unit')?.value === 'in' ? 'in' : 'cm';
}

/** A length field in cm (converted from inches when the toggle says so), or null if empty. */
export function lengthCm(form, name) {
  const raw = form?.elements.namedItem(name)?.value?.trim().replace(',', '.');
  if (!raw) return null;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name.replace('_', ' ')}: "${raw}" is not a number`);
  return formUnit(form) === 'in' ? round(value * CM_PER_INCH, 2) : value;
}

/**
 * The protocol of the try-on form: patient, legs with a calf girth, and the sessions.
 * With `needGirths`, at least one calf girth is required (`missingGirths` is the message) and
 * only those legs are treated; without, both legs are (their girths come from a scan).
 */
export function formProtocol(form, { needGirths, missingGirths }) {
  const field = (id) => document.getElementById(id);
  const patient = { sex: form.elements.namedItem('sex').value };
  const height = lengthCm(form, 'height');
  if (height !== null) patient.height_cm = height;
  const legs = {};
  for (const side of ['left', 'right']) {
    const calf = lengthCm(form, `${side}_calf`);
    const ankle = lengthCm(form, `${side}_ankle`);
    if (calf !== null) {
      legs[side] = { calf_girth_cm: calf };
      if (ankle !== null) legs[side].ankle_girth_cm = ankle;
    }
  }
  if (needGirths && !legs.left && !legs.right) throw new Error(missingGirths);
  const dose = Number(field('f-dose').value);
  const product = field('f-product').value;
  const n = Number(field('f-sessions').value);
  const spacing = parseInt(form.dataset.spacingDays, 10) || 91;
  const sides = needGirths ? Object.keys(legs) : ['left', 'right'];
  const sessions = [];
  for (let i = 0; i < n; i += 1) {
    sessions.push({ day: i * spacing, product, doses_u: Object.fromEntries(sides.map((s) => [s, dose])) });
  }
  return { patient, legs, sessions };
}
