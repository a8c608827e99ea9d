/* Bling's dialer page: remember the agent's phone, place the call, follow it, cancel it. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("dialer-config").textContent);
  var form = document.getElementById("dial-form");
  var phone = document.getElementById("agent-phone");
  var dial = document.getElementById("dial");
  var cancel = document.getElementById("cancel");
  var status = document.getElementById("status");
  var STORAGE_KEY = "bling.dialer.agentPhone";
  var callId = null;
  var timer = null;

  try {
    var saved = window.localStorage.getItem(STORAGE_KEY);
    if (saved) { phone.value = saved; }
  } catch (ignored) { /* storage may be off: the agent types the number each time */ }

  function remember() {
    try { window.localStorage.setItem(STORAGE_KEY, phone.value.trim()); } catch (ignored) { /* see above */ }
  }
  phone.addEventListener("input", remember);

  function show(state, message) {
    status.setAttribute("data-state", state);
    status.textContent = message;
  }

  function busy(on) {
    dial.disabled = on;
    phone.readOnly = on;
    cancel.hidden = !on;
    cancel.disabled = false;
  }

  function send(method, url, body) {
    var headers = { "Accept": "application/json", "X-Bling-Token": config.token };
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body) {
      headers["Content-Type"] = "application/json";
      headers["X-Bling-CSRF"] = config.csrf;
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        data.ok = response.ok;
        return data;
      });
    });
  }

  function finish(state, message) {
    clearTimeout(timer);
    timer = null;
    callId = null;
    busy(false);
    show(state, message);
  }

  function update(data) {
    if (!data.ok) {
      finish("failed", data.message || data.description || "Bling refused the request.");
      return;
    }
    if (data.call) { callId = data.call; }
    if (data.final) {
      finish(data.state, data.message);
      return;
    }
    show(data.state, data.message);
    clearTimeout(timer);
    timer = setTimeout(poll, config.pollMs);
  }

  function poll() {
    if (!callId) { return; }
    send("GET", config.statusUrl + "?call=" + encodeURIComponent(callId)).then(update, function () {
      timer = setTimeout(poll, config.pollMs * 3);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var number = phone.value.trim();
    if (!number) {
      show("failed", "Enter your phone number.");
      phone.focus();
      return;
    }
    remember();
    busy(true);
    show("calling", "Placing the call…");
    send("POST", config.callUrl, { phone: number }).then(update, function () {
      finish("failed", "Bling could not be reached. Check your connection and try again.");
    });
  });

  cancel.addEventListener("click", function () {
    if (!callId) { return; }
    cancel.disabled = true;
    show("cancelling", "Cancelling…");
    send("POST", config.cancelUrl, { call: callId }).then(update, function () {
      cancel.disabled = false;
      show("failed", "Bling could not be reached to cancel. Hang up your phone to end the call.");
    });
  });
}());
