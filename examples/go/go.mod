module example.com/placebitbrains

go 1.19
