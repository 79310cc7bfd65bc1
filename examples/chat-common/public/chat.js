// The chat page: the browser's own WebSocket, no library and no build step.
// Protocol: JSON frames {"event", "data"} (see examples/chat-common/README.md).
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const url = location.origin.replace(/^http/, 'ws') + '/chat';
  const backoff = { first: 500, max: 10000 }; // ms; doubles after each failed attempt, with jitter

  let socket = null;
  let attempt = 0;
  let wanted = null; // { room, nick } the user asked for; re-sent after a reconnect
  let joined = null; // { room, nick } the server confirmed

  // For people poking around in devtools, and for the end-to-end tests.
  const chat = {
    url,
    opens: 0,
    errors: [],
    get socket() { return socket; },
    get state() { return $('state').dataset.state; },
    sendRaw(text) { socket.send(text); },
  };
  window.chat = chat;

  function setState(state, text) {
    $('state').dataset.state = state;
    $('state').textContent = text;
    const canSay = state === 'open' && joined !== null;
    $('text').disabled = !canSay;
    $('send').disabled = !canSay;
    $('text').placeholder = canSay ? 'Message #' + joined.room : wanted && state !== 'open' ? 'Offline: you will be back in #' + wanted.room + ' when the connection returns' : 'Join a room to chat';
  }

  function connect() {
    setState(attempt === 0 ? 'connecting' : 'reconnecting', attempt === 0 ? 'connecting…' : 'reconnecting…');
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      chat.opens += 1;
      setState('open', 'connected');
      if (wanted) send('join', wanted);
    };
    ws.onmessage = (event) => receive(JSON.parse(event.data));
    ws.onclose = (event) => {
      if (socket !== ws) return;
      if (chat.opens > 0 && attempt === 0) addLine('system', 'Connection lost (code ' + event.code + '). Reconnecting…');
      $('members').classList.add('stale');
      joined = null;
      const delay = Math.min(backoff.max, backoff.first * 2 ** attempt);
      const jittered = Math.round(delay / 2 + Math.random() * delay / 2);
      attempt += 1;
      setState('reconnecting', 'offline, retrying in ' + Math.ceil(jittered / 1000) + ' s');
      setTimeout(connect, jittered);
    };
  }

  function send(event, data) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ event, data }));
  }

  function receive({ event, data }) {
    switch (event) {
      case 'welcome': {
        const compression = data.extensions.includes('permessage-deflate') ? 'permessage-deflate on' : 'no compression';
        $('server').textContent = 'server: ' + data.server + ' · ' + compression;
        $('rooms').replaceChildren(...data.rooms.map((room) => Object.assign(document.createElement('option'), { value: room })));
        break;
      }
      case 'joined':
        joined = { room: data.room, nick: data.nick };
        hideNotice();
        $('join').textContent = 'Switch';
        showMembers(data.room, data.members);
        addLine('system', 'You joined #' + data.room + ' as ' + data.nick + '.');
        setState('open', 'connected');
        break;
      case 'presence':
        if (!joined || data.room !== joined.room) break;
        showMembers(data.room, data.members);
        if (data.joined) addLine('system', data.joined + ' joined.');
        if (data.left) addLine('system', data.left + ' left.');
        break;
      case 'message':
        addMessage(data);
        break;
      case 'error': // what the Fastify and Express examples send
      case 'exception': { // what NestJS gateways send (with the message as a string or a list)
        const message = Array.isArray(data.message) ? data.message.join('; ') : String(data.message);
        chat.errors.push(message);
        showNotice(message);
        break;
      }
    }
  }

  function showMembers(room, members) {
    $('members').classList.remove('stale');
    $('room-name').textContent = '#' + room;
    $('member-count').textContent = '(' + members.length + ')';
    $('members').replaceChildren(...members.map((nick) => {
      const li = document.createElement('li');
      li.textContent = nick;
      if (joined && nick === joined.nick) li.className = 'me';
      return li;
    }));
  }

  function addMessage({ nick, text, at }) {
    const li = document.createElement('li');
    if (joined && nick === joined.nick) li.className = 'mine';
    const time = document.createElement('time');
    time.dateTime = at;
    time.textContent = new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const who = document.createElement('span');
    who.className = 'nick';
    who.textContent = nick;
    li.append(time, who, document.createTextNode(text));
    append(li);
  }

  function addLine(className, text) {
    const li = document.createElement('li');
    li.className = className;
    li.textContent = text;
    append(li);
  }

  function append(li) {
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(li);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function showNotice(text) {
    $('notice').textContent = text;
    $('notice').hidden = false;
  }

  function hideNotice() {
    $('notice').hidden = true;
  }

  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    wanted = { nick: $('nick').value, room: $('room').value.trim().toLowerCase() };
    send('join', wanted);
  });

  $('say-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('text').value;
    if (!text.trim()) return;
    send('say', { text });
    $('text').value = '';
    hideNotice();
  });

  connect();
})();
