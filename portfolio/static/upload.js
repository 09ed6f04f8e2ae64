// Upload forms (form.upload-form): the labelled file input, styled as a drop zone, also takes
// files dropped on it; the form is sent with XMLHttpRequest to show a progress bar and an
// aria-live status.  The server answers an XHR upload with {"location": ...} (then we go there)
// or with the page and its errors (then its main content replaces ours).  Without JavaScript
// the form posts normally.
(function () {
  "use strict";

  function showChosen(form, input) {
    var list = form.querySelector(".chosen-files");
    if (!list) {
      return;
    }
    list.textContent = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)";
      list.appendChild(item);
    });
  }

  function replaceMain(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var incoming = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!incoming || !main) {
      return false;
    }
    main.innerHTML = incoming.innerHTML;
    init(main);
    var summary = main.querySelector(".error-summary");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
    return true;
  }

  function enhance(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector(".dropzone");
    var progressBox = form.querySelector(".upload-progress");
    var bar = form.querySelector("progress");
    var status = form.querySelector(".upload-status");
    if (!input || !zone || !window.FormData || !window.XMLHttpRequest) {
      return;
    }
    zone.classList.add("is-enhanced");
    input.addEventListener("change", function () {
      showChosen(form, input);
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("is-dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showChosen(form, input);
        var title = form.querySelector("input[name=file_title]");
        if (title && !title.value) {
          title.value = event.dataTransfer.files[0].name.replace(/\.[^.]+$/, "");
        }
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      if (progressBox) {
        progressBox.hidden = false;
      }
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) {
          var percent = Math.round((progress.loaded / progress.total) * 100);
          if (bar) {
            bar.value = percent;
            bar.textContent = percent + "%";
          }
          if (status) {
            status.textContent = status.getAttribute("data-uploading") + " " + percent + "%";
          }
        }
      });
      request.addEventListener("load", function () {
        var type = request.getResponseHeader("Content-Type") || "";
        if (request.status < 400 && type.indexOf("application/json") === 0) {
          var answer = JSON.parse(request.responseText);
          if (status) {
            status.textContent = status.getAttribute("data-done");
          }
          window.location.assign(answer.location);
          return;
        }
        if (!replaceMain(request.responseText)) {
          failed();
        }
      });
      request.addEventListener("error", failed);
      function failed() {
        if (button) {
          button.disabled = false;
        }
        if (status) {
          status.textContent = status.getAttribute("data-failed");
        }
      }
      request.send(new FormData(form));
    });
  }

  function init(root) {
    root.querySelectorAll("form.upload-form").forEach(enhance);
  }

  init(document);
})();
