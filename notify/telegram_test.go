package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertgate/alertgate/notify"
)

const telegramToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

var telegramHeaders = []string{"Content-Type", "X-Alertgate-Idempotency-Key"}

func newTelegram(t *testing.T, base string) *notify.Telegram {
	t.Helper()
	n, err := notify.NewTelegram(notify.TelegramOptions{BotToken: telegramToken, BaseURL: base, Now: pushClock})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTelegramRequest(t *testing.T) {
	f := newPushFake(t)
	n := newTelegram(t, f.URL)
	local := pushPage("@alertgate_ops", true)
	local.Links = notify.Links{Acknowledge: "http://localhost:8080/a/tok-ack", Open: "http://127.0.0.1:8080/i/42?a=1&b=2"}
	for _, c := range []struct {
		name string
		page notify.Page
	}{
		{"links", pushPage("-1001234567890", true)},
		{"no-links", pushPage("-1001234567890", false)},
		// Telegram refuses URL buttons to local addresses: the links go
		// in the text.
		{"resolved", resolvedOf(pushPage("-1001234567890", true))},
		{"digest", digestOf(pushPage("-1001234567890", true), 12, true)},
		// Must stay last: the checks below read the local links' request.
		{"local-links", local},
	} {
		if retry, err := n.Notify(context.Background(), c.page); err != nil {
			t.Fatalf("%s: retry %v, %v", c.name, retry, err)
		}
		checkGolden(t, filepath.Join("telegram", c.name+".golden"), []byte(f.last(t).golden(telegramHeaders...)))
	}

	// The golden files are checked by eye once; these are the points
	// that must stay true.
	var m struct {
		ChatID      any    `json:"chat_id"`
		Text        string `json:"text"`
		ParseMode   string `json:"parse_mode"`
		ReplyMarkup *struct {
			InlineKeyboard [][]struct{ Text, URL string } `json:"inline_keyboard"`
		} `json:"reply_markup"`
	}
	if err := json.Unmarshal([]byte(f.last(t).Body), &m); err != nil {
		t.Fatal(err)
	}
	if m.ChatID != "@alertgate_ops" || m.ReplyMarkup != nil ||
		!strings.Contains(m.Text, `<a href="http://127.0.0.1:8080/i/42?a=1&amp;b=2">Open</a>`) {
		t.Errorf("local links: %+v", m)
	}
	if !strings.HasPrefix(m.Text, "<b>[CRITICAL] Disk full on db-1 &lt;primary&gt; &amp; replica</b>\n") {
		t.Errorf("the title is not escaped: %q", m.Text)
	}
	if got := f.last(t).Path; got != "/bot"+telegramToken+"/sendMessage" {
		t.Errorf("path %q", got)
	}
}

func TestTelegramRoundTrip(t *testing.T) {
	f := newPushFake(t)
	n := newTelegram(t, f.URL)
	// A provider that quotes the request path (with the token) back.
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found: `+r.URL.Path+`"}`)
	}
	pushRoundTrip(t, f, n, pushPage("-1001234567890", true), []pushCase{
		{name: "200", answer: pushAnswer(200, "", `{"ok":true,"result":{"message_id":7}}`), ok: true},
		{name: "400", answer: pushAnswer(400, "", `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`), detail: "status 400: Bad Request: chat not found"},
		{name: "403", answer: pushAnswer(403, "", `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`), detail: "Forbidden: bot was blocked by the user"},
		{name: "404 echo", answer: echo, detail: "Not Found: /bot<token>/sendMessage"},
		{name: "400 migrated", answer: pushAnswer(400, "", `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876543210}}`),
			detail: "supergroup -1009876543210"},
		{name: "429 retry_after", answer: pushAnswer(429, "", `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}`),
			retry: true, after: 5 * time.Second, detail: "Too Many Requests"},
		{name: "429 Retry-After", answer: pushAnswer(429, "7", `{"ok":false,"error_code":429,"description":"Too Many Requests"}`), retry: true, after: 7 * time.Second},
		{name: "500", answer: pushAnswer(500, "", `{"ok":false,"error_code":500,"description":"Internal Server Error"}`), retry: true, detail: "Internal Server Error"},
		{name: "hang", hang: true, retry: true, detail: "/bot<token>/sendMessage"},
	}, telegramToken, strings.Split(telegramToken, ":")[1])
}

func TestTelegramUnreachable(t *testing.T) {
	n := newTelegram(t, pushClosedURL())
	retry, err := n.Notify(context.Background(), pushPage("-1001234567890", true))
	if err == nil || !retry || strings.Contains(err.Error(), strings.Split(telegramToken, ":")[1]) || !strings.Contains(err.Error(), "<token>") {
		t.Errorf("a closed port: retry %v, %v; want a retryable error with the token blanked", retry, err)
	}
}

func TestTelegramRejectsAddress(t *testing.T) {
	f := newPushFake(t)
	n := newTelegram(t, f.URL)
	for _, addr := range []string{"", "0", "alertgate_ops", "@a", "@ops channel", "12ab"} {
		retry, err := n.Notify(context.Background(), pushPage(addr, true))
		if err == nil || retry || !strings.Contains(err.Error(), "chat id") {
			t.Errorf("address %q: retry %v, %v; want a permanent error", addr, retry, err)
		}
	}
	if f.count() != 0 {
		t.Errorf("%d requests sent for bad addresses", f.count())
	}
}

func TestNewTelegramChecksOptions(t *testing.T) {
	for _, c := range []struct {
		o    notify.TelegramOptions
		want string
	}{
		{notify.TelegramOptions{}, "bot_token must look like"},
		{notify.TelegramOptions{BotToken: "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}, "bot_token must look like"},
		{notify.TelegramOptions{BotToken: "123:abc/def"}, "bot_token must look like"},
		{notify.TelegramOptions{BotToken: telegramToken, BaseURL: "api.telegram.org"}, "base_url: scheme"},
		{notify.TelegramOptions{BotToken: telegramToken, BaseURL: "https://"}, "base_url: no host"},
	} {
		n, err := notify.NewTelegram(c.o)
		if err == nil || n != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %q", c.o, err, c.want)
			continue
		}
		if c.o.BotToken != "" && strings.Contains(err.Error(), c.o.BotToken) {
			t.Errorf("%v shows the token", err)
		}
	}
	a, b := newTelegram(t, ""), newTelegram(t, "https://tg.example.com")
	other, err := notify.NewTelegram(notify.TelegramOptions{BotToken: "123456789:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Target(), "telegram:bot-") || a.Target() != b.Target() || a.Target() == other.Target() ||
		strings.Contains(a.Target(), strings.Split(telegramToken, ":")[1]) {
		t.Errorf("Targets %q %q %q: want one per bot, without the token", a.Target(), b.Target(), other.Target())
	}
}

func TestTelegramLongPageFitsAMessage(t *testing.T) {
	f := newPushFake(t)
	n := newTelegram(t, f.URL)
	p := pushPage("-1001234567890", true)
	p.Title, p.Reason, p.Service = strings.Repeat("<&>", 2000), strings.Repeat("r", 5000), strings.Repeat("s", 5000)
	if _, err := n.Notify(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	var m struct{ Text string }
	if err := json.Unmarshal([]byte(f.last(t).Body), &m); err != nil {
		t.Fatal(err)
	}
	// Telegram counts the text after entity parsing: 4096 at most.
	plain := strings.NewReplacer("<b>", "", "</b>", "", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(m.Text)
	if n := utf8.RuneCountInString(plain); n > 4096 || !strings.HasPrefix(m.Text, "<b>[CRITICAL] &lt;&amp;&gt;") {
		t.Errorf("text of %d characters after parsing, want at most 4096: %.80q", n, m.Text)
	}
}
