// Copy buttons of the credential share panels: each button names the readonly field it copies
// (data-copy); without JavaScript the buttons stay hidden and the fields are selectable.
(function () {
  "use strict";

  function announce(button, text) {
    var panel = button.closest(".share") || document;
    var status = panel.querySelector(".copy-status");
    if (status) {
      status.textContent = text;
    }
  }

  function copied(button) {
    announce(button, button.getAttribute("data-copied") || "Copied.");
  }

  function fallback(field, button) {
    field.focus();
    field.select();
    try {
      if (document.execCommand("copy")) {
        copied(button);
        return;
      }
    } catch (error) {
      // fall through: the text is selected for the reader to copy
    }
    announce(button, button.getAttribute("data-select") || "Selected: press Ctrl+C to copy.");
  }

  document.querySelectorAll("button.copy-button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = field.value;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () {
            copied(button);
          },
          function () {
            fallback(field, button);
          }
        );
      } else {
        fallback(field, button);
      }
    });
  });

  document.querySelectorAll(".copy-source").forEach(function (field) {
    field.addEventListener("focus", function () {
      field.select();
    });
  });
})();
