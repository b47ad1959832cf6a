// The 3D legs: a GLB with morph targets day_DDD_median (weekly) and day_DDD_p10 / _p90 (every
// few weeks), shown from behind with a translucent "ghost" of today's legs around them.
//
// A week w of a band is a blend of the two neighbouring targets of that band (linear in the
// day), so that the vertices move continuously; day 0 is the base mesh (today).
//
// The blend is computed here, on the CPU, into each mesh's position buffer (base + weighted
// deltas of at most two targets: ~66k numbers per leg, well under a millisecond), and three.js
// draws plain meshes. three.js's own morph targets pack every target of a geometry into a float
// texture that is rebuilt whenever the set of targets changes (16 bytes per vertex and target),
// and its morphing vertex shader reads that texture for every vertex of every frame: on
// software WebGL (headless Chromium's SwiftShader) that cost seconds before the first frame with
// all 81 targets, and a texture rebuild plus a re-upload of the whole geometry per slider step
// with two at a time.
//
// The model may come in parts (see load()): the skins with the weekly medians first, then the
// band targets when another band is chosen and the muscles when x-ray is switched on. A part is
// a GLB of its own; its targets join the skins' and its meshes join the model.
//
// Drawing is coalesced: render() asks for one draw in the next animation frame, so that the
// several changes of one task (loading: x-ray state, view, week) cost one frame, not four (a
// frame of the legs is ~0.1 s in software).
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const SKIN_COLOR = 0xd9a58b;
const GHOST_COLOR = 0x2f5d8a;
const MUSCLE_COLOR = 0xb8483e;

/** Parse morph target names into {band: [[day, index], ...]} sorted by day. */
export function targetsByBand(dictionary) {
  const bands = {};
  for (const [name, index] of Object.entries(dictionary)) {
    const m = /^day_(\d{3})_(median|p10|p90)$/.exec(name);
    if (!m) continue;
    (bands[m[2]] ||= []).push([parseInt(m[1], 10), index]);
  }
  for (const list of Object.values(bands)) list.sort((a, b) => a[0] - b[0]);
  return bands;
}

/** Influences {index: weight} of a band at `day`: the two neighbouring targets, linearly. */
export function blendAt(list, day) {
  if (!list || list.length === 0) return {};
  if (day <= list[0][0]) return { [list[0][1]]: 1 };
  const last = list[list.length - 1];
  if (day >= last[0]) return { [last[1]]: 1 };
  for (let i = 0; i < list.length - 1; i += 1) {
    const [d0, i0] = list[i];
    const [d1, i1] = list[i + 1];
    if (day >= d0 && day <= d1) {
      const f = (day - d0) / (d1 - d0);
      return f === 0 ? { [i0]: 1 } : { [i0]: 1 - f, [i1]: f };
    }
  }
  return {};
}

/** Whether a WebGL context runs in software (SwiftShader, llvmpipe): then frames are costly. */
function isSoftwareGl(gl) {
  const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
  const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  return /swiftshader|llvmpipe|softpipe|software/i.test(name);
}

/**
 * A canvas and its WebGL2 context: without multisampling on software WebGL (a frame of the legs
 * took ~0.5 s with 4x multisampling there and ~0.15 s without), with it on a GPU. The first
 * context tells which; a second is made only on a GPU, where contexts are cheap.
 */
function makeContext() {
  const attributes = { alpha: true, preserveDrawingBuffer: true, antialias: false };
  let canvas = document.createElement('canvas');
  let gl = canvas.getContext('webgl2', attributes);
  const isSoftware = !gl || isSoftwareGl(gl);
  if (gl && !isSoftware) {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    canvas = document.createElement('canvas');
    gl = canvas.getContext('webgl2', { ...attributes, antialias: true });
  }
  return { canvas, gl, isSoftware };
}

/** The shared materials of a loaded model: skin, muscles (x-ray) and today's ghost outline. */
function makeMaterials() {
  return {
    skin: new THREE.MeshStandardMaterial({ color: SKIN_COLOR, roughness: 0.72, metalness: 0 }),
    muscle: new THREE.MeshStandardMaterial({ color: MUSCLE_COLOR, roughness: 0.6, metalness: 0 }),
    ghost: new THREE.MeshBasicMaterial({
      color: GHOST_COLOR, transparent: true, opacity: 0.45, depthWrite: false, side: THREE.BackSide,
    }),
  };
}

export class LegViewer {
  constructor(container) {
    this.container = container;
    const { canvas, gl, isSoftware } = makeContext();
    this.isSoftware = isSoftware;
    this.renderer = new THREE.WebGLRenderer({ canvas, context: gl || undefined });
    this.renderer.setPixelRatio(isSoftware ? 1 : Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.renderer.domElement.setAttribute('aria-label', 'Both legs in 3D: drag to turn, pinch or scroll to zoom');
    this.renderer.domElement.setAttribute('role', 'img');
    container.appendChild(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(30, 1, 0.01, 20);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = false;
    this.controls.addEventListener('change', () => this.render());
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x9aa5b1, 2.2));
    const key = new THREE.DirectionalLight(0xffffff, 1.6);
    key.position.set(-1.5, 2.5, -2.5);
    this.scene.add(key);
    const fill = new THREE.DirectionalLight(0xffffff, 0.8);
    fill.position.set(2, 1, 2);
    this.scene.add(fill);
    this.materials = makeMaterials();
    this.model = null;
    this.skins = [];
    this.muscles = [];
    this.ghosts = [];
    this.week = 0;
    this.band = 'median';
    this.view = 'back';
    this.xray = false;
    this.isRenderQueued = false;
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
    this.warmedUp = this.warmUp();
  }

  /**
   * Compile the shaders and draw once with stand-in meshes like the legs'. Software WebGL needs
   * time for its first shaders; this runs while the model downloads (or the server simulates)
   * instead of after it.
   */
  async warmUp() {
    const scene = new THREE.Scene();
    scene.add(...this.scene.children.filter((o) => o.isLight).map((light) => light.clone()));
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.Float32BufferAttribute([0, 0, 0, 0.01, 0, 0, 0, 0.01, 0], 3));
    geometry.setAttribute('normal', new THREE.Float32BufferAttribute([0, 0, 1, 0, 0, 1, 0, 0, 1], 3));
    for (const material of [this.materials.skin, this.materials.ghost]) {
      const mesh = new THREE.Mesh(geometry, material);
      mesh.frustumCulled = false;
      scene.add(mesh);
    }
    try {
      await this.renderer.compileAsync(scene, this.camera);
      this.renderer.render(scene, this.camera);
    } finally {
      geometry.dispose();
      this.render();
    }
  }

  resize() {
    const { clientWidth: w, clientHeight: h } = this.container;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    if (this.model) this.setView(this.view);
    this.render();
  }

  /** Draw in the next animation frame (all changes made before it are drawn once). */
  render() {
    if (this.isRenderQueued) return;
    this.isRenderQueued = true;
    requestAnimationFrame(() => {
      this.isRenderQueued = false;
      this.renderer.render(this.scene, this.camera);
    });
  }

  dispose() {
    if (!this.model) return;
    this.scene.remove(this.model);
    this.model.traverse((o) => {
      if (o.isMesh) {
        o.geometry.dispose();
        for (const m of [].concat(o.material)) if (!Object.values(this.materials).includes(m)) m.dispose();
      }
    });
    for (const m of Object.values(this.materials)) m.dispose();
    this.materials = makeMaterials();
    this.model = null;
    this.skins = [];
    this.muscles = [];
    this.ghosts = [];
    this.parts = {};
    this.partLoads = {};
  }

  /**
   * Load a GLB from a URL or an ArrayBuffer (already downloaded). `parts` maps the names of
   * parts not in it ("bands": the skins' p10 / p90 targets, "muscles": the inner meshes) to a
   * function that returns a promise of that part's GLB; each is loaded once, when first needed.
   */
  async load(source, { kneeHeightM = null, parts = {} } = {}) {
    const loader = new GLTFLoader();
    const gltf = typeof source === 'string' ? await loader.loadAsync(source) : await loader.parseAsync(source, '');
    this.dispose();
    const model = gltf.scene;
    this.parts = { ...parts };
    this.partLoads = {};
    const meshes = [];
    model.traverse((o) => { if (o.isMesh) meshes.push(o); });
    for (const mesh of meshes) this.adopt(mesh);
    this.scene.add(model);
    this.model = model;
    this.bands = this.skins[0]?.userData.bands || {};
    const box = new THREE.Box3().setFromObject(model);
    // A whole-body scan: frame the lower legs (floor to a little above the knees).
    if (kneeHeightM && box.max.y > kneeHeightM * 1.6) box.max.y = box.min.y + kneeHeightM * 1.25;
    this.center = box.getCenter(new THREE.Vector3());
    this.size = box.getSize(new THREE.Vector3());
    this.controls.target.copy(this.center);
    this.setXray(this.xray).catch((error) => console.warn('x-ray muscles not loaded:', error));
    this.setView(this.view);
    this.update();
    return { bands: Object.keys(this.bands), nMorphs: this.skins[0]?.userData.targets.length || 0 };
  }

  /** Take a mesh of a loaded GLB into the model: a skin (with today's ghost) or a muscle. */
  adopt(mesh) {
    const isSkin = /skin/.test(mesh.name) || /skin/.test(mesh.parent?.name || '');
    if (isSkin) {
      mesh.material = this.materials.skin.clone();
      mesh.renderOrder = 1;
      this.skins.push(mesh);
      // Today's legs: the base mesh, drawn as a translucent shell that shows wherever the
      // predicted leg is slimmer.
      const ghostGeometry = new THREE.BufferGeometry();
      ghostGeometry.setAttribute('position', mesh.geometry.attributes.position.clone());
      if (mesh.geometry.index) ghostGeometry.setIndex(mesh.geometry.index.clone());
      const ghost = new THREE.Mesh(ghostGeometry, this.materials.ghost);
      ghost.name = `${mesh.name}_today`;
      ghost.renderOrder = 2;
      mesh.parent.add(ghost);
      ghost.position.copy(mesh.position);
      ghost.quaternion.copy(mesh.quaternion);
      ghost.scale.copy(mesh.scale);
      this.ghosts.push(ghost);
    } else {
      mesh.material = this.materials.muscle.clone();
      mesh.visible = this.xray;
      this.muscles.push(mesh);
    }
    prepareMorphs(mesh);
  }

  /** Whether the model already holds what part `name` brings (a whole legs.glb holds all). */
  hasPart(name) {
    if (name === 'muscles') return this.muscles.length > 0;
    if (name === 'bands') return Object.keys(this.skins[0]?.userData.bands || {}).some((b) => b !== 'median');
    return false;
  }

  /** Load the part `name` once (see load()); resolves when it is in the model. */
  loadPart(name) {
    const fetchPart = this.parts?.[name];
    if (!fetchPart || this.hasPart(name)) return Promise.resolve();
    const { model } = this;
    this.partLoads[name] ||= fetchPart()
      .then((buffer) => new GLTFLoader().parseAsync(buffer, ''))
      .then((gltf) => { if (this.model === model) this.addPart(gltf.scene); })
      .catch((error) => { delete this.partLoads[name]; throw error; });
    return this.partLoads[name];
  }

  /** Merge a part's meshes: more targets for a skin already shown, or new (muscle) meshes. */
  addPart(scene) {
    const meshes = [];
    scene.traverse((o) => { if (o.isMesh) meshes.push(o); });
    const root = this.skins[0]?.parent || this.model;
    for (const mesh of meshes) {
      const known = this.skins.find((skin) => skin.name === mesh.name);
      if (known) {
        addTargets(known, mesh);
        mesh.geometry.dispose();
      } else {
        root.add(mesh); // a part's meshes sit under the same root transform (glTF's +Y up)
        this.adopt(mesh);
      }
    }
    this.bands = this.skins[0]?.userData.bands || {};
  }

  setView(view) {
    this.view = view;
    if (!this.model) return;
    const { center, size } = this;
    // Fit the legs' height (and both legs' width) in the view.
    const fov = THREE.MathUtils.degToRad(this.camera.fov);
    const fitH = (size.y * 1.12) / (2 * Math.tan(fov / 2));
    const fitW = (Math.max(size.x, size.z) * 1.25) / (2 * Math.tan(fov / 2) * this.camera.aspect);
    const dist = Math.max(fitH, fitW) + Math.max(size.x, size.z) / 2;
    // glTF: the person faces +Z, so the back is seen from -Z; the side from +X.
    const dir = view === 'side' ? new THREE.Vector3(1, 0, 0) : new THREE.Vector3(0, 0, -1);
    this.camera.position.copy(center).addScaledVector(dir, dist);
    this.camera.near = dist / 50;
    this.camera.far = dist * 10;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(center);
    this.controls.update();
    this.render();
  }

  /** Show or hide the muscles through a see-through skin (loading them first if needed). */
  async setXray(on) {
    this.wantedXray = on;
    if (on && !this.muscles.length) await this.loadPart('muscles'); // none yet: a part
    if (this.wantedXray !== on) return; // switched again meanwhile: the latest wins
    this.xray = on;
    for (const skin of this.skins) {
      skin.material.transparent = on;
      skin.material.opacity = on ? 0.3 : 1;
      skin.material.depthWrite = !on;
      skin.material.needsUpdate = true;
    }
    for (const m of this.muscles) m.visible = on;
    // Through a see-through skin the ghost would tint the whole leg: hide it meanwhile.
    for (const g of this.ghosts) g.visible = !on;
    this.update();
  }

  /**
   * Show week `week` (may be fractional) of band `band` on every morphing mesh. A band other
   * than the median is shown once its targets are loaded; until then the one shown stays.
   */
  async setState({ week = this.week, band = this.band } = {}) {
    this.week = week;
    this.wantedBand = band;
    if (band !== this.band && !this.skins[0]?.userData.bands?.[band]) await this.loadPart('bands');
    if (this.wantedBand === band) this.band = band;
    this.update();
  }

  update() {
    if (!this.model) return;
    const day = this.week * 7;
    for (const mesh of [...this.skins, ...this.muscles]) {
      const { bands } = mesh.userData;
      // Hidden meshes (the muscles without x-ray) are updated when they are shown.
      if (!bands || !mesh.visible) continue;
      const list = bands[this.band] || bands.median;
      showBlend(mesh, blendAt(list, day));
    }
    this.render();
  }
}

/** Keep the base positions and every target's deltas of `mesh`; three.js draws it plainly. */
function prepareMorphs(mesh) {
  const position = mesh.geometry.attributes.position;
  const { userData } = mesh;
  userData.base = position.array.slice();
  userData.targets = [...(mesh.geometry.morphAttributes.position || [])];
  userData.targetIndex = { ...(mesh.morphTargetDictionary || {}) };
  userData.bands = targetsByBand(userData.targetIndex);
  userData.blendKey = '';
  position.setUsage(THREE.DynamicDrawUsage);
  mesh.geometry.morphAttributes = {};
  delete mesh.morphTargetInfluences;
  delete mesh.morphTargetDictionary;
}

/** Append the morph targets of `part` (the same mesh from another GLB part) to `mesh`'s. */
function addTargets(mesh, part) {
  const targets = part.geometry.morphAttributes.position || [];
  const { userData } = mesh;
  const offset = userData.targets.length;
  userData.targets.push(...targets);
  for (const [name, index] of Object.entries(part.morphTargetDictionary || {})) {
    userData.targetIndex[name] = index + offset;
  }
  userData.bands = targetsByBand(userData.targetIndex);
}

/** The factor of a glTF normalized integer code (KHR_mesh_quantization): c / max code. */
function codeScale(attribute) {
  if (!attribute.normalized) return 1;
  const { array } = attribute;
  if (array instanceof Int8Array) return 1 / 127;
  if (array instanceof Int16Array) return 1 / 32767;
  if (array instanceof Uint8Array) return 1 / 255;
  if (array instanceof Uint16Array) return 1 / 65535;
  return 1;
}

/** Set `mesh`'s positions to its base plus the blend {targetIndex: weight} of target deltas. */
function showBlend(mesh, blend) {
  const entries = Object.entries(blend).map(([i, w]) => [Number(i), w]).filter(([, w]) => w !== 0);
  const key = entries.map(([i, w]) => `${i}:${w}`).join(',');
  if (mesh.userData.blendKey === key) return;
  const { base, targets } = mesh.userData;
  const position = mesh.geometry.attributes.position;
  const out = position.array;
  out.set(base);
  for (const [i, weight] of entries) {
    const { array } = targets[i];
    const scale = weight * codeScale(targets[i]);
    for (let k = 0; k < out.length; k += 1) out[k] += array[k] * scale;
  }
  position.needsUpdate = true;
  mesh.userData.blendKey = key;
  mesh.userData.weights = Object.fromEntries(entries);
}
