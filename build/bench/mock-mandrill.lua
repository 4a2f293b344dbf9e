-- Mandrill's messages/send.json, answered at once: the request body is read
-- (so the connection stays usable) and every call gets one "sent" result.
function handle(r)
    r:requestbody()
    r.content_type = "application/json"
    r:puts('[{"email":"bench@example.com","status":"sent",' ..
           '"_id":"bench","reject_reason":null}]')
    return apache2.OK
end
