// Set up the widget manager (embed-amd.js, loaded next; see nb_ipywidgets_js in _config.yml) for an
// offline book. Ours, not part of the npm package.
(function () {
  "use strict";
  // 1. Its font files are beside this file. The manager finds them relative to its RequireJS module
  //    addresses (or __jupyter_widgets_assets_path__), which would otherwise point at the page's own
  //    folder: map every module it defines into this folder (they are all defined by embed-amd.js,
  //    so nothing is fetched from these addresses).
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  window.__jupyter_widgets_assets_path__ = here;
  var paths = {"@jupyter-widgets/html-manager/dist": here.replace(/\/$/, "")};
  ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = here + name;
  });
  window.require.config({paths: paths});

  // 2. The widgets typeset their labels with MathJax 2's MathJax.Hub.Queue(["Typeset", hub, el]);
  //    the book runs MathJax 3, which has no Hub: give it one that calls MathJax 3's typesetter.
  function addHub() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (!Array.isArray(job) || job[0] !== "Typeset") return;
          var typeset = function () {
            return window.MathJax.typesetPromise ? window.MathJax.typesetPromise(job[2] ? [job[2]] : undefined) : null;
          };
          var ready = window.MathJax.startup && window.MathJax.startup.promise;
          (ready ? ready.then(typeset) : Promise.resolve().then(typeset)).catch(function (err) {
            console.warn("MathJax could not typeset a widget label", err);
          });
        });
      }
    };
  }
  addHub();
  document.addEventListener("DOMContentLoaded", addHub);
  window.addEventListener("load", addHub);
})();
