// Emit an event through the forrealtime gateway and read it back from the history, with
// Go's standard library only.
//
//	FORREALTIME_URL=http://127.0.0.1:8787 go run examples/go/emit.go chat '{"user":"go","text":"hi"}'
//
// FORREALTIME_EMIT_TOKEN, when set, goes in `Authorization: Bearer`; the Idempotency-Key is
// the same on every retry, so a retry after a lost answer stores the event once.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

type event struct {
	ID      string          `json:"id,omitempty"`
	Channel string          `json:"channel"`
	Event   string          `json:"event"`
	Data    json.RawMessage `json:"data"`
}

var gateway = strings.TrimRight(env("FORREALTIME_URL", "http://127.0.0.1:8787"), "/")
var client = &http.Client{Timeout: 10 * time.Second}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func do(req *http.Request, out any) error {
	if token := os.Getenv("FORREALTIME_EMIT_TOKEN"); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, body)
	}
	return json.Unmarshal(body, out)
}

// emit stores one event and returns its id, retrying 503/504 with one Idempotency-Key.
func emit(channel, name string, data json.RawMessage) (string, error) {
	body, _ := json.Marshal(event{Channel: channel, Event: name, Data: data})
	raw := make([]byte, 16)
	rand.Read(raw)
	key := hex.EncodeToString(raw)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		req, _ := http.NewRequest(http.MethodPost, gateway+"/api/emit", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		var out struct{ ID string }
		if err = do(req, &out); err == nil {
			return out.ID, nil
		}
		if !strings.Contains(err.Error(), ": 503 ") && !strings.Contains(err.Error(), ": 504 ") {
			return "", err
		}
		time.Sleep(time.Duration(100<<attempt) * time.Millisecond)
	}
	return "", err
}

func history(channel string, limit int) ([]event, error) {
	q := url.Values{"channel": {channel}, "limit": {fmt.Sprint(limit)}}
	req, _ := http.NewRequest(http.MethodGet, gateway+"/api/history?"+q.Encode(), nil)
	var out []event
	return out, do(req, &out)
}

func main() {
	channel, data := "chat", `{"user":"go","text":"hello"}`
	if len(os.Args) > 1 {
		channel = os.Args[1]
	}
	if len(os.Args) > 2 {
		data = os.Args[2]
	}
	id, err := emit(channel, "chat.message", json.RawMessage(data))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	past, err := history(channel, 1000)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, e := range past {
		if e.ID == id {
			fmt.Println(id)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "the event is not in the history")
	os.Exit(1)
}
